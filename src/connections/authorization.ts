/**
 * The OAuth authorization code flow, for the organization's provider (an administrator) and for each user's own
 * connection: start (state and PKCE held server-side), the provider's redirect back (every check before anything
 * is stored), and the held sign-in of a user who came back as another account. No Fastify in here.
 */
import type { AuditRepository } from '../db/repositories/audit.js'
import type { Actor } from './actor.js'
import { hashOf, type PendingAuthorizationRepository, type Purpose } from '../db/repositories/pending-authorizations.js'
import type { ConnectInput, UserConnectionRepository } from '../db/repositories/user-connections.js'
import { OAuthError, type OAuthClient, type TokenSet } from './oauth-client.js'
import { ProviderError } from '../providers/contract.js'
import { Vault } from '../security/vault.js'
import type { AppRegistrations } from './app-registrations.js'
import type { OrganizationProviderService } from './organization-provider.js'
import { newPkce, newState } from './pkce.js'
import type { ConnectFailure } from './failure-message.js'

export type { ConnectFailure }

export type CallbackOutcome =
  | { ok: true; purpose: Purpose; provider: string; returnTo: string; account: string; replay: boolean }
  /** A user signed in as another account than their connection's: held until they confirm. */
  | { ok: 'confirm'; purpose: 'user'; provider: string; returnTo: string; account: string; previous: string; state: string }
  | { ok: false; purpose: Purpose | null; provider: string; failure: ConnectFailure; returnTo: string }

export interface AuthorizationDeps {
  registrations: AppRegistrations
  organizationProvider: OrganizationProviderService
  vault: Vault
  pending: PendingAuthorizationRepository
  connections: UserConnectionRepository
  audit: AuditRepository
  /** A user's connection was made or renewed: their waiting meetings can go now. */
  onUserConnected?: (userId: number) => void | Promise<void>
}

const verifierAad = (stateHash: string) => `pending_authorizations:${stateHash}`
const heldAad = (stateHash: string) => `pending_authorizations:held:${stateHash}`

/** A user's sign-in held until they confirm it replaces their connection: what connecting stores. */
type HeldSignIn = ConnectInput

/** Scopes compared as sets; Zoom lists granular scopes, Google full URLs. */
export function missingScopes(required: string[], granted: string | null): string[] {
  // RFC 6749 §5.1 and Microsoft: `scope` may be left out when the grant is what was asked for.
  if (granted === null) return []
  const have = new Set(granted.split(/[\s,]+/).filter(Boolean).map(scopeName))
  return required.filter((scope) => !have.has(scopeName(scope)))
}

/**
 * A scope as providers mean it: without case (Microsoft answers "onlinemeetings.readwrite" as readily as
 * "OnlineMeetings.ReadWrite"), and a resource-prefixed name ("https://graph.microsoft.com/User.Read") as the
 * name itself. Scopes that are whole URLs (Google's https://www.googleapis.com/auth/…) stay whole.
 */
export function scopeName(scope: string): string {
  const prefixed = /^https:\/\/[^/]+\/([^/]+)$/i.exec(scope)
  return (prefixed ? prefixed[1]! : scope).toLowerCase()
}

export function createAuthorization(deps: AuthorizationDeps) {
  const { registrations, vault } = deps

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
    const name = registrations.adapter(signIn.provider)?.name ?? signIn.provider
    deps.audit.record(actor, replacedAccount ? 'connection.replace' : 'connection.connect', name, { account: signIn.accountEmail || signIn.accountName })
    await deps.onUserConnected?.(signIn.userId)
  }

  function openHeld(state: string, sealed: string): HeldSignIn {
    return JSON.parse(vault.open(sealed, heldAad(hashOf(state)))) as HeldSignIn
  }

  return {
    /** Starts the authorization code flow: a pending row holds the state's hash and the sealed PKCE verifier. */
    async start(id: string, who: { userId: number; sessionId: string; purpose: Purpose; returnTo?: string }): Promise<string> {
      const client = await registrations.oauthClient(id)
      if (!client) throw new ProviderError('fail', `${registrations.adapter(id)?.name ?? id} is not set up: an administrator must enter its client credentials`)
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
    async complete(id: string, query: Record<string, string | undefined>, who: { sessionId: string; actor: Actor; isAdmin: boolean }): Promise<CallbackOutcome> {
      const p = registrations.adapter(id)!
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
      const issuer = p.oauth?.issuer?.(registrations.endpoints(id))
      if (issuer && query.iss !== undefined && query.iss !== issuer) return failed({ reason: 'issuer' })
      if (!query.code) return failed({ reason: 'provider_error', error: 'no code' })
      const client = await registrations.oauthClient(id)
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
        identity = await p.identity(registrations.api(id, exchange.tokens.accessToken), registrations.endpoints(id), exchange.response)
      } catch (error) {
        if (error instanceof ProviderError && error.details.userMessage) return failed({ reason: 'account', message: error.details.userMessage })
        if (error instanceof ProviderError) return failed({ reason: 'userinfo', detail: error.reason ?? error.message })
        throw error
      }
      const grantedScope = exchange.tokens.scope ?? p.oauth.scopes.join(' ')
      const account = identity.email ?? identity.name
      if (pending.purpose === 'user') {
        const signIn: HeldSignIn = {
          userId: who.actor.id,
          provider: id,
          accountId: identity.accountId,
          accountName: identity.name,
          accountEmail: identity.email ?? '',
          grantedScope,
          tokens: exchange.tokens,
        }
        if (deps.organizationProvider.current()?.provider !== id) return failed({ reason: 'not_organization_provider' })
        const existing = deps.connections.findForUser(who.actor.id, id)
        if (existing && existing.accountId !== identity.accountId) {
          deps.pending.hold(state, vault.seal(JSON.stringify(signIn), heldAad(hashOf(state))))
          return { ok: 'confirm', purpose: 'user', provider: id, returnTo: pending.returnTo, account, previous: existing.accountEmail || existing.accountName, state }
        }
        await storeUserConnection(signIn, who.actor)
        deps.pending.finish(state, 'success')
        return { ok: true, purpose: 'user', provider: id, returnTo: pending.returnTo, account, replay: false }
      }
      const connected = deps.organizationProvider.connectSignedIn(p, { identity, tokens: exchange.tokens, grantedScope }, who.actor)
      if (!connected.ok) return failed(connected.failure)
      deps.pending.finish(state, 'success')
      return { ok: true, purpose: pending.purpose, provider: id, returnTo: pending.returnTo, account, replay: false }
    },

    /** The user confirmed that the sign-in as another account replaces their connection. */
    async confirmHeldSignIn(state: string, who: { sessionId: string; actor: Actor }): Promise<{ provider: string; returnTo: string } | null> {
      const held = deps.pending.takeHeld(state, who.sessionId, who.actor.id)
      if (!held) return null
      let signIn: HeldSignIn
      try {
        signIn = openHeld(state, held.sealed)
      } catch {
        return null
      }
      if (signIn.userId !== who.actor.id || deps.organizationProvider.current()?.provider !== signIn.provider) return null
      await storeUserConnection(signIn, who.actor)
      return { provider: signIn.provider, returnTo: held.returnTo }
    },

    /** The user kept their connection: the other account's tokens are revoked where possible and dropped. */
    async discardHeldSignIn(state: string, who: { sessionId: string; actor: Actor }): Promise<void> {
      const held = deps.pending.takeHeld(state, who.sessionId, who.actor.id)
      if (!held) return
      try {
        const signIn = openHeld(state, held.sealed)
        await registrations.revoke(signIn.provider, signIn.tokens)
      } catch {
        // Best effort: the tokens are gone from here either way.
      }
    },
  }
}

export type Authorization = ReturnType<typeof createAuthorization>
