/**
 * The organization's video meeting provider: which one it is (one at a time), the account and tokens it was
 * connected with, its extra settings, and Disconnect. No Fastify in here: routes call it.
 */
import type { AuditRepository } from '../db/repositories/audit.js'
import type { Actor } from './actor.js'
import { AlreadyConfiguredError, type OrganizationProvider, type OrganizationProviderRepository } from '../db/repositories/organization-provider.js'
import type { Language } from '../i18n/languages.js'
import type { TokenSet } from './oauth-client.js'
import type { Identity, ProviderAdapter, ProviderSettings } from '../providers/contract.js'
import { Vault, VaultError } from '../security/vault.js'
import type { AppRegistrations, Revoked } from './app-registrations.js'
import type { ConnectFailure } from './failure-message.js'

export interface OrganizationProviderDeps {
  registrations: AppRegistrations
  vault: Vault
  organization: OrganizationProviderRepository
  audit: AuditRepository
}

/** The organization's provider with its adapter; `tokensReadable` false when the sealed tokens no longer open. */
export type CurrentOrganizationProvider = OrganizationProvider & { adapter: ProviderAdapter; tokensReadable: boolean }

const sealedTokensAad = (provider: string) => `organization_provider:1:${provider}`

export function createOrganizationProvider(deps: OrganizationProviderDeps) {
  const { registrations, vault } = deps

  function openTokens(org: OrganizationProvider): TokenSet | null {
    if (!org.tokensSealed) return null
    try {
      return JSON.parse(vault.open(org.tokensSealed, sealedTokensAad(org.provider))) as TokenSet
    } catch (error) {
      if (error instanceof VaultError || error instanceof SyntaxError) return null
      throw error
    }
  }

  /** Stores the provider as the organization's; refused while another one is configured. */
  function connect(
    p: ProviderAdapter,
    signedIn: { identity: Identity; tokens: TokenSet; grantedScope: string } | null,
    actor: Actor,
  ): { ok: true } | { ok: false; failure: ConnectFailure } {
    let result: 'connected' | 'reconnected'
    try {
      result = deps.organization.connect({
        provider: p.id,
        accountId: signedIn?.identity.accountId ?? '',
        accountName: signedIn?.identity.name ?? '',
        accountEmail: signedIn?.identity.email ?? '',
        tokensSealed: signedIn ? vault.seal(JSON.stringify(signedIn.tokens), sealedTokensAad(p.id)) : null,
        grantedScope: signedIn?.grantedScope ?? '',
        settings: p.settings.defaults(),
        connectedBy: actor.id,
      })
    } catch (error) {
      if (error instanceof AlreadyConfiguredError) return { ok: false, failure: { reason: 'already_configured', provider: registrations.adapter(error.provider)?.name ?? error.provider } }
      throw error
    }
    if (signedIn) {
      const { identity } = signedIn
      deps.audit.record(actor, result === 'connected' ? 'video.connect' : 'video.reconnect', p.name, { account: identity.email ?? identity.name })
    } else {
      deps.audit.record(actor, 'video.connect', p.name)
    }
    return { ok: true }
  }

  return {
    /** The providers an admin can choose from, in the order the product lists them. */
    available(): ProviderAdapter[] {
      return registrations.providers()
    },

    current(): CurrentOrganizationProvider | null {
      const org = deps.organization.get()
      const p = org && registrations.adapter(org.provider)
      if (!org || !p) return null
      return { ...org, adapter: p, tokensReadable: p.oauth === null || openTokens(org) !== null }
    },

    /** After a successful sign-in of an administrator (see authorization.ts). */
    connectSignedIn(p: ProviderAdapter, signedIn: { identity: Identity; tokens: TokenSet; grantedScope: string }, actor: Actor) {
      return connect(p, signedIn, actor)
    },

    /** Providers without sign-in (Jitsi) are configured directly. */
    connectWithoutSignIn(id: string, actor: Actor): { ok: true } | { ok: false; failure: ConnectFailure } {
      const p = registrations.adapter(id)
      if (!p) return { ok: false, failure: { reason: 'not_set_up' } }
      return connect(p, null, actor)
    },

    saveSettings(form: Record<string, string | undefined>, language: Language, actor: Actor): { ok: true; settings: ProviderSettings } | { ok: false; errors: Record<string, string> } {
      const org = deps.organization.get()
      const p = org && registrations.adapter(org.provider)
      if (!org || !p) return { ok: false, errors: {} }
      const parsed = p.settings.parse(form, language)
      if (Object.keys(parsed.errors).length) return { ok: false, errors: parsed.errors }
      deps.organization.saveSettings(org.provider, parsed.settings)
      // Setting names only: values such as a passcode stay out of the audit log.
      deps.audit.record(actor, 'video.settings', p.name, { fields: Object.keys(parsed.settings) })
      return { ok: true, settings: parsed.settings }
    },

    /**
     * Revokes at the provider where it has an endpoint, then deletes the stored tokens whatever the
     * provider said: `revoked` tells the admin whether to remove the app's access at the provider by hand.
     */
    async disconnect(actor: Actor): Promise<{ provider: string; revoked: Revoked } | null> {
      const org = deps.organization.get()
      if (!org) return null
      const p = registrations.adapter(org.provider)
      const revoked = p ? await registrations.revoke(p.id, openTokens(org)) : 'nothing'
      deps.organization.remove(org.provider)
      deps.audit.record(actor, 'video.disconnect', p?.name ?? org.provider, { revoked })
      return { provider: p?.name ?? org.provider, revoked }
    },
  }
}

export type OrganizationProviderService = ReturnType<typeof createOrganizationProvider>
