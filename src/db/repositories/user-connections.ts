import type { Db } from '../database.js'
import type { TokenSet } from '../../model/connection.js'
import { Vault, VaultError } from '../../security/vault.js'

export type UserConnectionStatus = 'connected' | 'needs_reconnect'

/** A user's own sign-in at a provider. Tokens never leave the repository in this model. */
export interface UserConnection {
  id: number
  userId: number
  provider: string
  accountId: string
  accountName: string
  accountEmail: string
  grantedScope: string
  status: UserConnectionStatus
  /** Why it needs reconnecting: 'invalid_grant', 'unreadable', 'no_refresh_token', ... ('' when connected). */
  statusReason: string
  /** Bumped on every token or status change (compare-and-swap for refreshes). */
  version: number
  createdAt: string
  updatedAt: string
  lastUsedAt: string | null
}

/** A connection with its user, for the admin's "Manage users" page. */
export interface UserConnectionWithUser extends UserConnection {
  userName: string
  userEmail: string
}

export interface ConnectInput {
  userId: number
  provider: string
  accountId: string
  accountName: string
  accountEmail: string
  grantedScope: string
  tokens: TokenSet
}

/** A removed connection and its tokens (null when they could not be read), so the caller can revoke them. */
export interface RemovedConnection {
  connection: UserConnection
  tokens: TokenSet | null
}

interface Row {
  id: number
  user_id: number
  provider: string
  account_id: string
  account_name: string
  account_email: string
  tokens_enc: string | null
  granted_scope: string
  status: UserConnectionStatus
  status_reason: string
  version: number
  created_at: string
  updated_at: string
  last_used_at: string | null
}

/** Binds a sealed TokenSet to its row, user and provider: a value copied elsewhere does not open. */
export const userConnectionAad = (id: number, userId: number, provider: string) => `user_connections:${id}:${userId}:${provider}`

const COLUMN_NAMES = ['id', 'user_id', 'provider', 'account_id', 'account_name', 'account_email', 'tokens_enc', 'granted_scope', 'status', 'status_reason', 'version', 'created_at', 'updated_at', 'last_used_at']
const COLUMNS = COLUMN_NAMES.join(', ')

function toModel(row: Row): UserConnection {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider,
    accountId: row.account_id,
    accountName: row.account_name,
    accountEmail: row.account_email,
    grantedScope: row.granted_scope,
    status: row.status,
    statusReason: row.status_reason,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
  }
}

function isTokenSet(value: unknown): value is TokenSet {
  const v = value as Partial<TokenSet> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.accessToken === 'string' &&
    (v.refreshToken === null || typeof v.refreshToken === 'string') &&
    (v.expiresAt === null || typeof v.expiresAt === 'number') &&
    (v.scope === null || typeof v.scope === 'string')
  )
}

/**
 * Users' own provider connections (table user_connections). One row per user and provider: a Reconnect
 * updates the same row, so meetings keep pointing at it. Tokens are sealed with the row's id, user and
 * provider as associated data; a value that does not open marks the row needs_reconnect instead of throwing.
 */
export function createUserConnectionRepository(db: Db, vault: Vault, now: () => number = Date.now) {
  const iso = () => new Date(now()).toISOString()

  const byId = db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM user_connections WHERE id = ?`)
  const byUserProvider = db.prepare<[number, string], Row>(`SELECT ${COLUMNS} FROM user_connections WHERE user_id = ? AND provider = ?`)
  const byUser = db.prepare<[number], Row>(`SELECT ${COLUMNS} FROM user_connections WHERE user_id = ? ORDER BY provider`)
  const all = db.prepare<[], Row & { user_name: string; user_email: string }>(
    `SELECT ${COLUMN_NAMES.map((c) => `c.${c}`).join(', ')}, u.name AS user_name, u.email AS user_email
       FROM user_connections c JOIN users u ON u.id = c.user_id
      ORDER BY c.last_used_at IS NULL, c.last_used_at DESC, c.updated_at DESC, c.id DESC`,
  )
  const insert = db.prepare<{ userId: number; provider: string; accountId: string; accountName: string; accountEmail: string; grantedScope: string; at: string }, { id: number }>(
    `INSERT INTO user_connections (user_id, provider, account_id, account_name, account_email, granted_scope, created_at, updated_at)
     VALUES (@userId, @provider, @accountId, @accountName, @accountEmail, @grantedScope, @at, @at) RETURNING id`,
  )
  const setSealed = db.prepare<[string, number]>('UPDATE user_connections SET tokens_enc = ? WHERE id = ?')
  const reconnect = db.prepare<{ id: number; accountId: string; accountName: string; accountEmail: string; grantedScope: string; sealed: string; at: string }>(
    `UPDATE user_connections SET account_id = @accountId, account_name = @accountName, account_email = @accountEmail,
       tokens_enc = @sealed, granted_scope = @grantedScope, status = 'connected', status_reason = '', version = version + 1,
       refresh_lease_until = 0, refresh_lease_owner = '', updated_at = @at
     WHERE id = @id`,
  )
  const storeTokens = db.prepare<{ id: number; version: number; sealed: string; at: string }, { version: number }>(
    `UPDATE user_connections SET tokens_enc = @sealed, version = version + 1, refresh_lease_until = 0, refresh_lease_owner = '', updated_at = @at
     WHERE id = @id AND version = @version RETURNING version`,
  )
  const markStatus = db.prepare<{ id: number; reason: string; at: string; version: number | null }>(
    `UPDATE user_connections SET status = 'needs_reconnect', status_reason = @reason, version = version + 1,
       refresh_lease_until = 0, refresh_lease_owner = '', updated_at = @at
     WHERE id = @id AND (@version IS NULL OR version = @version)`,
  )
  const markUnreadable = db.prepare<{ id: number; sealed: string | null; reason: string; at: string }>(
    `UPDATE user_connections SET status = 'needs_reconnect', status_reason = @reason, version = version + 1,
       refresh_lease_until = 0, refresh_lease_owner = '', updated_at = @at
     WHERE id = @id AND tokens_enc IS @sealed AND status = 'connected'`,
  )
  const touch = db.prepare<[string, number]>('UPDATE user_connections SET last_used_at = ? WHERE id = ?')
  const removeOne = db.prepare<[number], Row>(`DELETE FROM user_connections WHERE id = ? RETURNING ${COLUMNS}`)
  const removeProvider = db.prepare<[string], Row>(`DELETE FROM user_connections WHERE provider = ? RETURNING ${COLUMNS}`)

  const seal = (row: { id: number; user_id: number; provider: string }, tokens: TokenSet) =>
    vault.seal(JSON.stringify(tokens), userConnectionAad(row.id, row.user_id, row.provider))

  /** The row's tokens, or null when there are none or they do not open (damaged, moved, key changed). */
  function open(row: Row): TokenSet | null {
    if (!row.tokens_enc) return null
    try {
      const value: unknown = JSON.parse(vault.open(row.tokens_enc, userConnectionAad(row.id, row.user_id, row.provider)))
      return isTokenSet(value) ? value : null
    } catch (error) {
      if (error instanceof VaultError || error instanceof SyntaxError) return null
      throw error
    }
  }

  /** Opens the row's tokens; when they cannot be read, the row is marked needs_reconnect (never a throw). */
  function openOrMark(row: Row): { row: Row; tokens: TokenSet | null } {
    const tokens = open(row)
    if (tokens || row.status !== 'connected') return { row, tokens }
    markUnreadable.run({ id: row.id, sealed: row.tokens_enc, reason: row.tokens_enc ? 'unreadable' : 'no_tokens', at: iso() })
    return { row: byId.get(row.id) ?? row, tokens: null }
  }

  return {
    get(id: number): UserConnection | undefined {
      const row = byId.get(id)
      return row && toModel(row)
    },

    findForUser(userId: number, provider: string): UserConnection | undefined {
      const row = byUserProvider.get(userId, provider)
      return row && toModel(row)
    },

    /**
     * The user's connection as a page shows it, from one read of the row: its tokens are opened, and a seal
     * that no longer opens (damaged, or moved from another row) marks it needs_reconnect now, not at the
     * next meeting.
     */
    checkedForUser(userId: number, provider: string): UserConnection | undefined {
      const found = byUserProvider.get(userId, provider)
      return found && toModel(openOrMark(found).row)
    },

    listForUser(userId: number): UserConnection[] {
      return byUser.all(userId).map(toModel)
    },

    /** Every connection with its user's name and email, most recently used first (never used last). */
    listAll(): UserConnectionWithUser[] {
      return all.all().map((row) => ({ ...toModel(row), userName: row.user_name, userEmail: row.user_email }))
    },

    /**
     * Stores a successful sign-in. A user who already has a row for this provider (Reconnect) keeps the same
     * row and id: account, tokens and scope are replaced, needs_reconnect is cleared, the version is bumped
     * (so a refresh still in flight with the old grant cannot overwrite the new tokens).
     * `replacedAccount`: the row existed and was connected to another provider account before.
     */
    connect(input: ConnectInput): { id: number; replacedAccount: boolean } {
      return db
        .transaction(() => {
          const at = iso()
          const existing = byUserProvider.get(input.userId, input.provider)
          if (existing) {
            reconnect.run({
              id: existing.id,
              accountId: input.accountId,
              accountName: input.accountName,
              accountEmail: input.accountEmail,
              grantedScope: input.grantedScope,
              sealed: seal(existing, input.tokens),
              at,
            })
            return { id: existing.id, replacedAccount: existing.account_id !== input.accountId }
          }
          const { id } = insert.get({ ...input, at })!
          setSealed.run(seal({ id, user_id: input.userId, provider: input.provider }, input.tokens), id)
          return { id, replacedAccount: false }
        })
        .immediate()
    },

    /** The tokens, or null (and the row marked needs_reconnect, reason 'unreadable') when they do not open. */
    readTokens(id: number): TokenSet | null {
      const row = byId.get(id)
      return row ? openOrMark(row).tokens : null
    },

    /**
     * The connection and its tokens from one read of the row (the version matches the tokens): what a
     * refresh starts from. Unreadable tokens are null and mark the row as readTokens does.
     */
    snapshot(id: number): { connection: UserConnection; tokens: TokenSet | null } | undefined {
      const found = byId.get(id)
      if (!found) return undefined
      const { row, tokens } = openOrMark(found)
      return { connection: toModel(row), tokens }
    },

    /**
     * Compare-and-swap after a refresh: stores the tokens only if the row is still at `expectedVersion`,
     * bumps the version and clears the refresh lease. Returns the new version, or null when the row changed
     * (or is gone) meanwhile and nothing was stored.
     */
    storeRefreshedTokens(id: number, expectedVersion: number, tokens: TokenSet): number | null {
      const row = byId.get(id)
      if (!row || row.version !== expectedVersion) return null
      const stored = storeTokens.get({ id, version: expectedVersion, sealed: seal(row, tokens), at: iso() })
      return stored?.version ?? null
    },

    /**
     * Flags the connection for a new sign-in (also releases any refresh lease and bumps the version, so
     * waiting refreshers notice). With `ifVersion`, only when the row is still at that version. True when
     * the row was changed.
     */
    markNeedsReconnect(id: number, reason: string, options: { ifVersion?: number } = {}): boolean {
      return markStatus.run({ id, reason, at: iso(), version: options.ifVersion ?? null }).changes === 1
    },

    markUsed(id: number): void {
      touch.run(iso(), id)
    },

    /** Deletes the connection; returns it with its tokens (when readable) so the caller can revoke them. */
    remove(id: number): RemovedConnection | null {
      const row = removeOne.get(id)
      return row ? { connection: toModel(row), tokens: open(row) } : null
    },

    /** Deletes every user's connection to a provider (the organization changed provider); for revoking. */
    removeAllForProvider(provider: string): RemovedConnection[] {
      return db.transaction(() => removeProvider.all(provider).map((row) => ({ connection: toModel(row), tokens: open(row) }))).immediate()
    },
  }
}

export type UserConnectionRepository = ReturnType<typeof createUserConnectionRepository>
