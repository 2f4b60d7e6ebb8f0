/**
 * The app registrations at the providers: which client credentials each provider uses (its own built-in
 * registration, the environment, or the admin's form), the extra registration fields they declare (Teams'
 * tenant), the endpoints that follow from them, and one OAuth client per credential set. No Fastify in here.
 */
import type { AuditRepository } from '../db/repositories/audit.js'
import type { Actor } from './actor.js'
import { hashOf } from '../db/repositories/pending-authorizations.js'
import type { ProviderClientRepository, StoredClient } from '../db/repositories/provider-clients.js'
import { createOAuthClient, OAuthError, type ClientCredentials, type OAuthClient, type TokenSet } from './oauth-client.js'
import type { ApiClient, ProviderAdapter, ProviderEndpoints, RegistrationField } from '../providers/contract.js'
import { resolveEndpoints, type ProvidersConfig } from '../providers/endpoints.js'
import { createApiClient } from '../providers/http.js'
import { Vault, VaultError } from '../security/vault.js'

export interface ClientStatus {
  /** Where the client credentials come from, or null when the provider is not set up. */
  source: 'environment' | 'form' | 'built-in' | null
  clientId: string
  secretSet: boolean
  /** The registration fields' values in effect (environment, then form, then the default), by name. */
  fields: Record<string, string>
  /** The stored secret could not be decrypted (key changed): the admin must type it again. */
  unreadable: boolean
}

/** What revoking a grant at the provider came to: `nothing` when there was no grant to revoke. */
export type Revoked = 'yes' | 'no_endpoint' | 'failed' | 'nothing'

export interface AppRegistrationsDeps {
  config: { baseUrl: string; providers: ProvidersConfig }
  vault: Vault
  /** Every provider the admin may choose from, in the order the product lists them. */
  providers: ProviderAdapter[]
  clients: ProviderClientRepository
  audit: AuditRepository
  now?: () => number
}

const clientSecretAad = (provider: string) => `provider_clients:${provider}`

/** The value a stored registration holds for a field: provider_clients has a column per field name. */
const storedField = (stored: StoredClient | undefined, field: RegistrationField): string | null => stored?.[field.name] ?? null

export function createAppRegistrations(deps: AppRegistrationsDeps) {
  const { config, vault } = deps
  const now = deps.now ?? Date.now
  const byId = new Map(deps.providers.map((p) => [p.id, p]))
  const clientCache = new Map<string, { key: string; client: Promise<OAuthClient & { close(): Promise<void> }> }>()

  const adapter = (id: string): ProviderAdapter | undefined => byId.get(id)
  const redirectUri = (id: string) => `${config.baseUrl}/oauth/${id}/callback`
  const fieldsOf = (p: ProviderAdapter): readonly RegistrationField[] => p.oauth?.registrationFields ?? []

  function status(id: string): ClientStatus {
    const none: ClientStatus = { source: null, clientId: '', secretSet: false, fields: {}, unreadable: false }
    const p = adapter(id)
    if (!p?.oauth) return none
    const builtIn = p.oauth.builtIn
    if (builtIn) return { ...none, source: 'built-in', clientId: builtIn.client.id, secretSet: true }
    const env = config.providers.oauth[id]
    if (!env) return none
    const stored = deps.clients.get(id)
    const fields = Object.fromEntries(fieldsOf(p).map((field) => [field.name, env.envFields[field.name] ?? storedField(stored, field) ?? field.default]))
    if (env.envClient) return { source: 'environment', clientId: env.envClient.id, secretSet: true, fields, unreadable: false }
    if (!stored) return { ...none, fields }
    let unreadable = false
    if (stored.clientSecretSealed) {
      try {
        vault.open(stored.clientSecretSealed, clientSecretAad(id))
      } catch (error) {
        if (!(error instanceof VaultError)) throw error
        unreadable = true
      }
    }
    const usable = Boolean(stored.clientSecretSealed) && !unreadable
    return { source: usable ? 'form' : null, clientId: stored.clientId, secretSet: Boolean(stored.clientSecretSealed), fields, unreadable }
  }

  function credentials(id: string): ClientCredentials | null {
    const builtIn = adapter(id)?.oauth?.builtIn
    if (builtIn) return builtIn.client
    const env = config.providers.oauth[id]
    if (!env) return null
    if (env.envClient) return env.envClient
    const stored = deps.clients.get(id)
    if (!stored?.clientSecretSealed) return null
    try {
      return { id: stored.clientId, secret: vault.open(stored.clientSecretSealed, clientSecretAad(id)) }
    } catch (error) {
      if (error instanceof VaultError) return null
      throw error
    }
  }

  function endpoints(id: string): ProviderEndpoints {
    const builtIn = adapter(id)?.oauth?.builtIn
    if (builtIn) return builtIn.endpoints
    const oauth = config.providers.oauth[id]
    if (!oauth) throw new Error(`${id} has no OAuth endpoints`)
    return resolveEndpoints(oauth.endpoints, status(id).fields)
  }

  /** One OAuth client per provider and credential set; rebuilt when the admin changes the credentials. */
  async function oauthClient(id: string): Promise<OAuthClient | null> {
    const p = adapter(id)
    const creds = credentials(id)
    if (!p?.oauth || !creds) return null
    const ep = endpoints(id)
    const key = hashOf(JSON.stringify([creds.id, creds.secret, ep]))
    const cached = clientCache.get(id)
    if (cached?.key === key) return cached.client
    if (cached) void cached.client.then((c) => c.close())
    const client = createOAuthClient({ spec: p.oauth, endpoints: ep, credentials: creds, redirectUri: redirectUri(id), timeoutMs: config.providers.httpTimeoutMs, providerName: p.name, now })
    clientCache.set(id, { key, client })
    return client
  }

  return {
    adapter,
    redirectUri,
    status,
    endpoints,
    oauthClient,

    /** Every provider the admin may choose from, in the order the product lists them. */
    providers(): ProviderAdapter[] {
      return deps.providers
    },

    /** An API client for the provider, named so a failure reads "Zoom answered with a server error, HTTP 503". */
    api(id: string, accessToken: string): ApiClient {
      return createApiClient(endpoints(id).apiUrl, accessToken, { timeoutMs: config.providers.httpTimeoutMs, providerName: adapter(id)?.name ?? id })
    },

    /**
     * The admin's registration: a null secret keeps the stored one. `fields` are the provider's registration
     * fields as typed (checked by the caller against their declarations).
     */
    save(id: string, value: { clientId: string; secret: string | null; fields: Record<string, string> }, actor: Actor): void {
      const p = adapter(id)
      const columns: Record<RegistrationField['name'], string | null> = { tenant: null }
      for (const field of p ? fieldsOf(p) : []) columns[field.name] = value.fields[field.name] ?? null
      deps.clients.save(id, { clientId: value.clientId, secretSealed: value.secret ? vault.seal(value.secret, clientSecretAad(id)) : null, ...columns }, actor.id)
      deps.audit.record(actor, 'video.client', id, { secretChanged: Boolean(value.secret) })
    },

    /** Revokes a grant where the provider has an endpoint (the refresh token when there is one, it takes the grant along). */
    async revoke(id: string, tokens: TokenSet | null): Promise<Revoked> {
      if (!adapter(id)?.oauth || !tokens) return 'nothing'
      try {
        const client = await oauthClient(id)
        const token = tokens.refreshToken ?? tokens.accessToken
        return client && (await client.revoke(token, tokens.refreshToken ? 'refresh_token' : 'access_token')) ? 'yes' : 'no_endpoint'
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error
        return 'failed'
      }
    },

    async close(): Promise<void> {
      await Promise.all([...clientCache.values()].map(async (c) => (await c.client).close()))
      clientCache.clear()
    },
  }
}

export type AppRegistrations = ReturnType<typeof createAppRegistrations>
