import type { Translate } from '../i18n/index.js'
import type { Language } from '../i18n/languages.js'
import { reasonText } from '../providers/reason.js'
import type { StateProblem } from '../db/repositories/pending-authorizations.js'
import type { Text } from '../providers/contract.js'
import type { Reason } from '../providers/reason.js'

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

/** Why a connection attempt failed, in words the admin or user can act on, in their language. */
export function failureMessage(t: Translate, language: Language, provider: string, failure: ConnectFailure): string {
  switch (failure.reason) {
    case 'denied':
      return t('video.error.denied', { provider })
    case 'state':
      return t(failure.problem === 'expired' ? 'video.error.expired' : failure.problem === 'replayed' ? 'video.error.replayed' : 'video.error.state')
    case 'issuer':
      return t('video.error.issuer', { provider })
    case 'provider_error':
      return t('video.error.providerError', { provider, error: failure.error })
    case 'token':
      return t('video.error.token', { provider, detail: reasonText(t, failure.detail, language) })
    case 'scope':
      return t('video.error.scope', { provider, scopes: failure.missing.join(', ') })
    case 'userinfo':
      return t('video.error.userinfo', { provider, detail: reasonText(t, failure.detail, language) })
    case 'account':
      return failure.message[language]
    case 'not_set_up':
      return t('video.error.notSetUp', { provider })
    case 'already_configured':
      return t('video.error.alreadyConfigured', { provider: failure.provider })
    case 'forbidden':
      return t('page.forbidden.text')
    case 'not_organization_provider':
      return t('video.error.notOrganizationProvider', { provider })
  }
}
