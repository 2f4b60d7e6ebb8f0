import type { Db } from '../database.js'
import type { ProviderSettings } from '../../model/connection.js'

export interface OrganizationProvider {
  provider: string
  accountId: string
  accountName: string
  accountEmail: string
  tokensSealed: string | null
  grantedScope: string
  status: 'connected' | 'needs_reconnect'
  statusReason: string
  settings: ProviderSettings
  connectedBy: number | null
  connectedAt: string
  version: number
}

interface Row {
  provider: string
  account_id: string
  account_name: string
  account_email: string
  tokens_enc: string | null
  granted_scope: string
  status: 'connected' | 'needs_reconnect'
  status_reason: string
  settings: string
  connected_by: number | null
  connected_at: string
  version: number
}

export class AlreadyConfiguredError extends Error {
  constructor(readonly provider: string) {
    super(`The installation is already configured with ${provider}: disconnect first`)
    this.name = 'AlreadyConfiguredError'
  }
}

/** The single row (id = 1) that says which provider the installation uses, and as whom it was connected. */
export function createOrganizationProviderRepository(db: Db) {
  const get = db.prepare<[], Row>('SELECT * FROM organization_provider WHERE id = 1')
  const insert = db.prepare(
    `INSERT INTO organization_provider (id, provider, account_id, account_name, account_email, tokens_enc, granted_scope, settings, connected_by)
     VALUES (1, @provider, @accountId, @accountName, @accountEmail, @tokensSealed, @grantedScope, @settings, @connectedBy)`,
  )
  const reconnect = db.prepare(
    `UPDATE organization_provider SET account_id = @accountId, account_name = @accountName, account_email = @accountEmail,
       tokens_enc = @tokensSealed, granted_scope = @grantedScope, status = 'connected', status_reason = '',
       connected_by = @connectedBy, connected_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), version = version + 1
     WHERE id = 1 AND provider = @provider`,
  )
  const setSettings = db.prepare('UPDATE organization_provider SET settings = ?, version = version + 1 WHERE id = 1 AND provider = ?')
  const setStatus = db.prepare('UPDATE organization_provider SET status = ?, status_reason = ?, version = version + 1 WHERE id = 1')
  const remove = db.prepare('DELETE FROM organization_provider WHERE id = 1 AND provider = ?')

  const toModel = (row: Row): OrganizationProvider => ({
    provider: row.provider,
    accountId: row.account_id,
    accountName: row.account_name,
    accountEmail: row.account_email,
    tokensSealed: row.tokens_enc,
    grantedScope: row.granted_scope,
    status: row.status,
    statusReason: row.status_reason,
    settings: JSON.parse(row.settings) as ProviderSettings,
    connectedBy: row.connected_by,
    connectedAt: row.connected_at,
    version: row.version,
  })

  return {
    get(): OrganizationProvider | undefined {
      const row = get.get()
      return row && toModel(row)
    },
    /**
     * Connects a provider. The same provider again (a reconnect) keeps its settings; another provider while
     * one is configured is refused: the admin must disconnect first.
     */
    connect(value: { provider: string; accountId: string; accountName: string; accountEmail: string; tokensSealed: string | null; grantedScope: string; settings: ProviderSettings; connectedBy: number }): 'connected' | 'reconnected' {
      return db
        .transaction(() => {
          const current = get.get()
          if (current && current.provider !== value.provider) throw new AlreadyConfiguredError(current.provider)
          if (current) {
            reconnect.run({ ...value })
            return 'reconnected' as const
          }
          insert.run({ ...value, settings: JSON.stringify(value.settings) })
          return 'connected' as const
        })
        .immediate()
    },
    saveSettings(provider: string, settings: ProviderSettings): boolean {
      return setSettings.run(JSON.stringify(settings), provider).changes === 1
    },
    markNeedsReconnect(reason: string): void {
      setStatus.run('needs_reconnect', reason)
    },
    remove(provider: string): boolean {
      return remove.run(provider).changes === 1
    },
  }
}

export type OrganizationProviderRepository = ReturnType<typeof createOrganizationProviderRepository>
