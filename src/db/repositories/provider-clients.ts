import type { Db } from '../database.js'

export interface StoredClient {
  provider: string
  clientId: string
  clientSecretSealed: string | null
  tenant: string | null
  updatedAt: string
}

export function createProviderClientRepository(db: Db) {
  const get = db.prepare<[string], { provider: string; client_id: string; client_secret_enc: string | null; tenant: string | null; updated_at: string }>(
    'SELECT provider, client_id, client_secret_enc, tenant, updated_at FROM provider_clients WHERE provider = ?',
  )
  const upsert = db.prepare(
    `INSERT INTO provider_clients (provider, client_id, client_secret_enc, tenant, updated_by, updated_at)
     VALUES (@provider, @clientId, @secret, @tenant, @userId, strftime('%Y-%m-%dT%H:%M:%fZ','now'))
     ON CONFLICT (provider) DO UPDATE SET client_id = excluded.client_id,
       client_secret_enc = COALESCE(excluded.client_secret_enc, provider_clients.client_secret_enc),
       tenant = excluded.tenant, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
  )
  return {
    get(provider: string): StoredClient | undefined {
      const row = get.get(provider)
      return row && { provider: row.provider, clientId: row.client_id, clientSecretSealed: row.client_secret_enc, tenant: row.tenant, updatedAt: row.updated_at }
    },
    /** A null secret keeps the stored one: the form's secret is write-only and replaced only when typed. */
    save(provider: string, value: { clientId: string; secretSealed: string | null; tenant: string | null }, userId: number): void {
      upsert.run({ provider, clientId: value.clientId, secret: value.secretSealed, tenant: value.tenant, userId })
    },
  }
}

export type ProviderClientRepository = ReturnType<typeof createProviderClientRepository>
