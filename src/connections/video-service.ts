import type { Config } from '../config.js'
import type { AuditRepository } from '../db/repositories/audit.js'
import { AlreadyConfiguredError, type OrganizationProvider, type OrganizationProviderRepository } from '../db/repositories/organization-provider.js'
import { hashOf, type PendingAuthorizationRepository, type Purpose, type StateProblem } from '../db/repositories/pending-authorizations.js'
import type { ProviderClientRepository } from '../db/repositories/provider-clients.js'
import type { UserConnectionRepository } from '../db/repositories/user-connections.js'
import type { Language } from '../i18n/languages.js'
import { createOAuthClient, OAuthError, type ClientCredentials, type OAuthClient, type TokenSet } from '../oauth/client.js'
import { ProviderError, type ProviderAdapter, type ProviderEndpoints, type ProviderId, type ProviderSettings, type Text } from '../providers/contract.js'
import { resolveEndpoints, type OAuthProviderId } from '../providers/endpoints.js'
import { createApiClient } from '../providers/http.js'
import type { Reason } from '../providers/reason.js'
import { Vault, VaultError } from '../security/vault.js'
import { newPkce, newState } from './pkce.js'

export interface Actor {
  id: number
  name: string
}

/** Why a connection attempt failed, as a message the admin can act on (keys into the i18n catalog). */
export type ConnectFailure =
  | { reason: 'denied' }
  | { reason: 'state'; problem: StateProblem | 'missing' }
  | { reason: 'issuer' }
  | { reason: 'provider_error'; error: string }
  /** `detail`: the OAuth error's reason (providers/reason.ts), or its message where it has none. */
  | { reason: 'token'; detail: Reason | string }
  | { reason: 'scope'; missing: string[] }
  | { reason: 'userinfo'; detail: Reason | string }
  | { reason: 'account'; message: Text }
  | { reason: 'not_set_up' }
  | { reason: 'already_configured'; provider: string }
  /** Only administrators may connect the organization's provider. */
  | { reason: 'forbidden' }
  /** A user tried to connect a provider the organization does not use. */
  | { reason: 'not_organization_provider' }

export type CallbackOutcome =
  | { ok: true; purpose: Purpose; provider: ProviderId; returnTo: string; account: string; replay: boolean }
  /** A user signed in as another account than their connection's: held until they confirm. */
  | { ok: 'confirm'; purpose: 'user'; provider: ProviderId; returnTo: string; account: string; previous: string; state: string }
  | { ok: false; purpose: Purpose | null; provider: ProviderId; failure: ConnectFailure; returnTo: string }

export interface ClientStatus {
  /** Where the client credentials come from, or null when the provider is not set up. */
  source: 'environment' | 'form' | 'built-in' | null
  clientId: string
  secretSet: boolean
  tenant: string | null
  /** The stored secret could not be decrypted (key changed): the admin must type it again. */
  unreadable: boolean
}

export interface VideoServiceDeps {
  config: Config
  vault: Vault
  providers: ProviderAdapter[]
  clients: ProviderClientRepository
  organization: OrganizationProviderRepository
  pending: PendingAuthorizationRepository
  audit: AuditRepository
  connections: UserConnectionRepository
  /** A user's connection was made or renewed: their waiting meetings can go now. */
  onUserConnected?: (userId: number) => void | Promise<void>
  /** The Sandbox's built-in client registration, when the Sandbox is enabled. */
  sandboxClient?: ClientCredentials
  now?: () => number
}

const sealedTokensAad = (provider: string) => `organization_provider:1:${provider}`
const clientSecretAad = (provider: string) => `provider_clients:${provider}`
const verifierAad = (stateHash: string) => `pending_authorizations:${stateHash}`
const heldAad = (stateHash: string) => `pending_authorizations:held:${stateHash}`

interface HeldSignIn {
  userId: number
  provider: ProviderId
  accountId: string
  accountName: string
  accountEmail: string
  grantedScope: string
  tokens: TokenSet
}

/** Scopes compared as sets; Zoom lists granular scopes, Google full URLs. */
export function missingScopes(required: string[], granted: string | null): string[] {
  if (granted === null) return []
  const have = new Set(granted.split(/[\s,]+/).filter(Boolean))
  return required.filter((scope) => !have.has(scope))
}

/**
 * The organization's video meeting provider: which providers can be chosen, the OAuth clients, the
 * Configure flow (start, callback), extra settings, and Disconnect. No Fastify in here: routes call it.
 */
export function createVideoService(deps: VideoServiceDeps) {
  const { config, vault } = deps
  const now = deps.now ?? Date.now
  const byId = new Map(deps.providers.map((p) => [p.id, p]))
  const clientCache = new Map<string, { key: string; client: Promise<OAuthClient & { close(): Promise<void> }> }>()

  const adapter = (id: string): ProviderAdapter | undefined => byId.get(id as ProviderId)
  const redirectUri = (id: ProviderId) => `${config.baseUrl}/oauth/${id}/callback`

  function clientStatus(id: ProviderId): ClientStatus {
    const none = { source: null, clientId: '', secretSet: false, tenant: null, unreadable: false }
    const p = adapter(id)
    if (!p?.oauth) return none
    if (id === 'sandbox') return deps.sandboxClient ? { ...none, source: 'built-in', clientId: deps.sandboxClient.id, secretSet: true } : none
    const env = config.providers.oauth[id as OAuthProviderId]
    const stored = deps.clients.get(id)
    const tenant = id === 'teams' ? (env.envTenant ?? stored?.tenant ?? 'organizations') : null
    if (env.envClient) return { source: 'environment', clientId: env.envClient.id, secretSet: true, tenant, unreadable: false }
    if (!stored) return { ...none, tenant }
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
    return { source: usable ? 'form' : null, clientId: stored.clientId, secretSet: Boolean(stored.clientSecretSealed), tenant, unreadable }
  }

  function credentials(id: ProviderId): ClientCredentials | null {
    if (id === 'sandbox') return deps.sandboxClient ?? null
    const env = config.providers.oauth[id as OAuthProviderId]
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

  function endpoints(id: ProviderId): ProviderEndpoints {
    const oauth = config.providers.oauth[id as OAuthProviderId]
    if (!oauth) throw new Error(`${id} has no OAuth endpoints`)
    return resolveEndpoints(oauth.endpoints, clientStatus(id).tenant ?? 'organizations')
  }

  /** One OAuth client per provider and credential set; rebuilt when the admin changes the credentials. */
  async function oauthClient(id: ProviderId): Promise<OAuthClient | null> {
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

  function api(id: ProviderId, accessToken: string) {
    // Named, so a failure reads "Zoom answered with a server error, HTTP 503" where users see it.
    return createApiClient(endpoints(id).apiUrl, accessToken, { timeoutMs: config.providers.httpTimeoutMs, providerName: adapter(id)?.name ?? id })
  }

  function sealTokens(provider: string, tokens: TokenSet): string {
    return vault.seal(JSON.stringify(tokens), sealedTokensAad(provider))
  }

  function openTokens(org: OrganizationProvider): TokenSet | null {
    if (!org.tokensSealed) return null
    try {
      return JSON.parse(vault.open(org.tokensSealed, sealedTokensAad(org.provider))) as TokenSet
    } catch (error) {
      if (error instanceof VaultError || error instanceof SyntaxError) return null
      throw error
    }
  }

  function record(actor: Actor, action: string, subject: string, details: Record<string, unknown> = {}) {
    deps.audit.record(actor, action, subject, details)
  }

  async function storeUserConnection(signIn: HeldSignIn, actor: Actor): Promise<void> {
    const { replacedAccount } = deps.connections.connect({
      userId: signIn.userId,
      provider: signIn.provider,
      accountId: signIn.accountId,
      accountName: signIn.accountName,
      accountEmail: signIn.accountEmail,
      grantedScope: signIn.grantedScope,
      tokens: signIn.tokens,
    })
    record(actor, replacedAccount ? 'connection.replace' : 'connection.connect', adapter(signIn.provider)?.name ?? signIn.provider, { account: signIn.accountEmail || signIn.accountName })
    await deps.onUserConnected?.(signIn.userId)
  }

  return {
    adapter,
    oauthClient,
    api,
    redirectUri,
    clientStatus,
    endpoints,

    /** The providers an admin can choose from, in the order the product lists them. */
    available(): ProviderAdapter[] {
      return deps.providers.filter((p) => p.id !== 'sandbox' || (config.providers.sandbox && deps.sandboxClient))
    },

    organization(): (OrganizationProvider & { adapter: ProviderAdapter; tokensReadable: boolean }) | null {
      const org = deps.organization.get()
      const p = org && adapter(org.provider)
      if (!org || !p) return null
      return { ...org, adapter: p, tokensReadable: p.oauth === null || openTokens(org) !== null }
    },

    saveClient(id: ProviderId, value: { clientId: string; secret: string | null; tenant: string | null }, actor: Actor): void {
      deps.clients.save(id, { clientId: value.clientId, secretSealed: value.secret ? vault.seal(value.secret, clientSecretAad(id)) : null, tenant: value.tenant }, actor.id)
      record(actor, 'video.client', id, { secretChanged: Boolean(value.secret) })
    },

    /** Starts the authorization code flow: a pending row holds the state's hash and the sealed PKCE verifier. */
    async startAuthorization(id: ProviderId, who: { userId: number; sessionId: string; purpose: Purpose; returnTo?: string }): Promise<string> {
      const client = await oauthClient(id)
      if (!client) throw new ProviderError('fail', `${adapter(id)?.name ?? id} is not set up: an administrator must enter its client credentials`)
      const state = newState()
      const pkce = newPkce()
      deps.pending.create({
        state,
        sessionId: who.sessionId,
        userId: who.userId,
        provider: id,
        purpose: who.purpose,
        verifierSealed: vault.seal(pkce.verifier, verifierAad(hashOf(state))),
        returnTo: who.returnTo ?? '',
      })
      return client.authorizationUrl({ state, codeChallenge: pkce.challenge })
    },

    /** Handles the provider's redirect back. Nothing is stored unless every check passes. */
    async completeAuthorization(id: ProviderId, query: Record<string, string | undefined>, who: { sessionId: string; actor: Actor; isAdmin: boolean }): Promise<CallbackOutcome> {
      const p = adapter(id)!
      const fail = (failure: ConnectFailure, purpose: Purpose | null = null, returnTo = ''): CallbackOutcome => ({ ok: false, purpose, provider: id, failure, returnTo })
      const state = query.state
      if (!state) return fail({ reason: 'state', problem: 'missing' })
      const spent = deps.pending.consume(state, who.sessionId, id)
      if (!spent.ok) {
        if (spent.problem === 'replayed_after_success' && spent.pending) {
          return { ok: true, purpose: spent.pending.purpose, provider: id, returnTo: spent.pending.returnTo, account: '', replay: true }
        }
        return fail({ reason: 'state', problem: spent.problem })
      }
      const { pending } = spent
      const failed = (failure: ConnectFailure) => {
        deps.pending.finish(state, 'failed')
        return fail(failure, pending.purpose, pending.returnTo)
      }
      // Bound to the session, which is bound to the user; checked again so a role change in between counts.
      if (pending.userId !== who.actor.id) return failed({ reason: 'state', problem: 'other_session' })
      if (pending.purpose === 'organization' && !who.isAdmin) return failed({ reason: 'forbidden' })
      if (query.error) return failed(query.error === 'access_denied' ? { reason: 'denied' } : { reason: 'provider_error', error: query.error.slice(0, 100) })
      // RFC 9207: where the provider names itself, it must be the one we sent the admin to (mix-up defence).
      const issuer = p.oauth?.issuer?.(endpoints(id))
      if (issuer && query.iss !== undefined && query.iss !== issuer) return failed({ reason: 'issuer' })
      if (!query.code) return failed({ reason: 'provider_error', error: 'no code' })
      const client = await oauthClient(id)
      if (!client || !p.oauth) return failed({ reason: 'not_set_up' })

      let verifier: string
      try {
        verifier = vault.open(pending.verifierSealed, verifierAad(hashOf(state)))
      } catch {
        return failed({ reason: 'state', problem: 'unknown' })
      }
      let exchange: Awaited<ReturnType<OAuthClient['exchangeCode']>>
      try {
        exchange = await client.exchangeCode(query.code, verifier)
      } catch (error) {
        if (error instanceof OAuthError) return failed({ reason: 'token', detail: error.reason ?? error.message })
        throw error
      }
      const missing = missingScopes(p.oauth.requiredScopes, exchange.tokens.scope)
      if (missing.length) return failed({ reason: 'scope', missing })
      let identity
      try {
        identity = await p.identity(api(id, exchange.tokens.accessToken), endpoints(id), exchange.response)
      } catch (error) {
        if (error instanceof ProviderError && error.details.userMessage) return failed({ reason: 'account', message: error.details.userMessage })
        if (error instanceof ProviderError) return failed({ reason: 'userinfo', detail: error.reason ?? error.message })
        throw error
      }
      if (pending.purpose === 'user') {
        const signIn: HeldSignIn = {
          userId: who.actor.id,
          provider: id,
          accountId: identity.accountId,
          accountName: identity.name,
          accountEmail: identity.email ?? '',
          grantedScope: exchange.tokens.scope ?? p.oauth.scopes.join(' '),
          tokens: exchange.tokens,
        }
        if (deps.organization.get()?.provider !== id) return failed({ reason: 'not_organization_provider' })
        const existing = deps.connections.findForUser(who.actor.id, id)
        if (existing && existing.accountId !== identity.accountId) {
          deps.pending.hold(state, vault.seal(JSON.stringify(signIn), heldAad(hashOf(state))))
          return { ok: 'confirm', purpose: 'user', provider: id, returnTo: pending.returnTo, account: identity.email ?? identity.name, previous: existing.accountEmail || existing.accountName, state }
        }
        await storeUserConnection(signIn, who.actor)
        deps.pending.finish(state, 'success')
        return { ok: true, purpose: 'user', provider: id, returnTo: pending.returnTo, account: identity.email ?? identity.name, replay: false }
      }
      try {
        const result = deps.organization.connect({
          provider: id,
          accountId: identity.accountId,
          accountName: identity.name,
          accountEmail: identity.email ?? '',
          tokensSealed: sealTokens(id, exchange.tokens),
          grantedScope: exchange.tokens.scope ?? p.oauth.scopes.join(' '),
          settings: p.settings.defaults(),
          connectedBy: who.actor.id,
        })
        record(who.actor, result === 'connected' ? 'video.connect' : 'video.reconnect', p.name, { account: identity.email ?? identity.name })
      } catch (error) {
        if (error instanceof AlreadyConfiguredError) return failed({ reason: 'already_configured', provider: adapter(error.provider)?.name ?? error.provider })
        throw error
      }
      deps.pending.finish(state, 'success')
      return { ok: true, purpose: pending.purpose, provider: id, returnTo: pending.returnTo, account: identity.email ?? identity.name, replay: false }
    },

    /** The user confirmed that the sign-in as another account replaces their connection. */
    async confirmHeldSignIn(state: string, who: { sessionId: string; actor: Actor }): Promise<{ provider: ProviderId; returnTo: string } | null> {
      const held = deps.pending.takeHeld(state, who.sessionId, who.actor.id)
      if (!held) return null
      let signIn: HeldSignIn
      try {
        signIn = JSON.parse(vault.open(held.sealed, heldAad(hashOf(state)))) as HeldSignIn
      } catch {
        return null
      }
      if (signIn.userId !== who.actor.id || deps.organization.get()?.provider !== signIn.provider) return null
      await storeUserConnection(signIn, who.actor)
      return { provider: signIn.provider, returnTo: held.returnTo }
    },

    /** The user kept their connection: the other account's tokens are revoked where possible and dropped. */
    async discardHeldSignIn(state: string, who: { sessionId: string; actor: Actor }): Promise<void> {
      const held = deps.pending.takeHeld(state, who.sessionId, who.actor.id)
      if (!held) return
      try {
        const signIn = JSON.parse(vault.open(held.sealed, heldAad(hashOf(state)))) as HeldSignIn
        const client = await oauthClient(signIn.provider)
        const token = signIn.tokens.refreshToken ?? signIn.tokens.accessToken
        await client?.revoke(token, signIn.tokens.refreshToken ? 'refresh_token' : 'access_token')
      } catch {
        // Best effort: the tokens are gone from here either way.
      }
    },

    /** A user removes their own connection (or an admin removes it under Manage users). */
    async removeUserConnection(connectionId: number, actor: Actor): Promise<{ provider: string; revoked: 'yes' | 'no_endpoint' | 'failed' | 'nothing' } | null> {
      const removed = deps.connections.remove(connectionId)
      if (!removed) return null
      const p = adapter(removed.connection.provider)
      let revoked: 'yes' | 'no_endpoint' | 'failed' | 'nothing' = 'nothing'
      if (p?.oauth && removed.tokens) {
        try {
          const client = await oauthClient(p.id)
          const token = removed.tokens.refreshToken ?? removed.tokens.accessToken
          revoked = client && (await client.revoke(token, removed.tokens.refreshToken ? 'refresh_token' : 'access_token')) ? 'yes' : 'no_endpoint'
        } catch (error) {
          if (!(error instanceof OAuthError)) throw error
          revoked = 'failed'
        }
      }
      record(actor, 'connection.remove', p?.name ?? removed.connection.provider, { user: removed.connection.userId, account: removed.connection.accountEmail || removed.connection.accountName, revoked })
      return { provider: p?.name ?? removed.connection.provider, revoked }
    },

    /** Providers without sign-in (Jitsi) are configured directly. */
    connectWithoutSignIn(id: ProviderId, actor: Actor): { ok: true } | { ok: false; failure: ConnectFailure } {
      const p = adapter(id)!
      try {
        deps.organization.connect({ provider: id, accountId: '', accountName: '', accountEmail: '', tokensSealed: null, grantedScope: '', settings: p.settings.defaults(), connectedBy: actor.id })
      } catch (error) {
        if (error instanceof AlreadyConfiguredError) return { ok: false, failure: { reason: 'already_configured', provider: adapter(error.provider)?.name ?? error.provider } }
        throw error
      }
      record(actor, 'video.connect', p.name)
      return { ok: true }
    },

    saveSettings(form: Record<string, string | undefined>, language: Language, actor: Actor): { ok: true; settings: ProviderSettings } | { ok: false; errors: Record<string, string> } {
      const org = deps.organization.get()
      const p = org && adapter(org.provider)
      if (!org || !p) return { ok: false, errors: {} }
      const parsed = p.settings.parse(form, language)
      if (Object.keys(parsed.errors).length) return { ok: false, errors: parsed.errors }
      deps.organization.saveSettings(org.provider, parsed.settings)
      // Setting names only: values such as a passcode stay out of the audit log.
      record(actor, 'video.settings', p.name, { fields: Object.keys(parsed.settings) })
      return { ok: true, settings: parsed.settings }
    },

    /**
     * Revokes at the provider where it has an endpoint, then deletes the stored tokens whatever the
     * provider said: `revoked` tells the admin whether to remove the app's access at the provider by hand.
     */
    async disconnect(actor: Actor): Promise<{ provider: string; revoked: 'yes' | 'no_endpoint' | 'failed' | 'nothing' } | null> {
      const org = deps.organization.get()
      if (!org) return null
      const p = adapter(org.provider)
      const tokens = openTokens(org)
      let revoked: 'yes' | 'no_endpoint' | 'failed' | 'nothing' = 'nothing'
      if (p?.oauth && tokens) {
        try {
          const client = await oauthClient(p.id)
          const token = tokens.refreshToken ?? tokens.accessToken
          const done = client ? await client.revoke(token, tokens.refreshToken ? 'refresh_token' : 'access_token') : false
          revoked = done ? 'yes' : 'no_endpoint'
        } catch (error) {
          if (!(error instanceof OAuthError)) throw error
          revoked = 'failed'
        }
      }
      deps.organization.remove(org.provider)
      record(actor, 'video.disconnect', p?.name ?? org.provider, { revoked })
      return { provider: p?.name ?? org.provider, revoked }
    },

    async close(): Promise<void> {
      await Promise.all([...clientCache.values()].map(async (c) => (await c.client).close()))
      clientCache.clear()
    },
  }
}

export type VideoService = ReturnType<typeof createVideoService>
