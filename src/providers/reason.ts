/**
 * Why a provider call failed, as data: what the classifiers (providers/http.ts for the meeting API,
 * connections/oauth-client.ts for the token endpoint) and the token manager found out, without the words. The words come from
 * the i18n catalogs (keys `reason.<code>`), in the reader's language, when the reason is shown; the English
 * rendering is the error's message (logs, exceptions).
 *
 * Stored where reasons are kept for later pages (meetings.last_error, meeting_events.detail) as JSON text, e.g.
 * {"code":"timeout","provider":"Zoom","seconds":1}; rows written before held plain English, and still show as they
 * are.
 */
import type { Language } from '../i18n/languages.js'
import type { MessageKey, Translate } from '../i18n/index.js'
import { defineStoredReason } from '../i18n/stored-reason.js'

export const REASON_CODES = [
  // The meeting API and the token endpoint: no answer, or one that cannot be used.
  'timeout',
  'unreachable',
  'broken_off',
  'unreadable',
  'error_page',
  'error_unreadable',
  'server_error',
  'too_many_requests',
  'try_later',
  'redirected',
  'refused',
  'not_found',
  /** The meeting API answered 401. */
  'reauth',
  // The token endpoint only.
  'token_refused',
  'grant_refused',
  'client_refused',
  'no_access_token',
  // The token manager: the connection's sign-in.
  'sign_in_expired',
  'no_refresh_token',
  'sign_in_unreadable',
  'sign_in_again',
  'sign_in_renew',
  'connection_removed',
  'renew_conflict',
  'renew_incomplete',
  'renew_slow',
  'not_set_up',
  // Adapters and the meeting sync.
  'incomplete_answer',
  'too_long',
  'start_kept',
  'start_moved_up',
  'event_deleted',
  'conference_failed',
  'conference_pending',
  'internal_error',
] as const
export type ReasonCode = (typeof REASON_CODES)[number]

/** What an adapter adds to a classified reason (Zoom's missing scope, Graph's personal account). */
export const REASON_HINTS = ['missing_scope', 'personal_account'] as const
export type ReasonHint = (typeof REASON_HINTS)[number]

export interface Reason {
  code: ReasonCode
  /** The provider's display name ("Zoom"); said as "the provider" when absent. */
  provider?: string
  /** The HTTP status, where the reason says it. */
  status?: number
  /** The provider's error code, only where it says more than the status. */
  errorCode?: string
  /** The timeout, for `timeout`. */
  seconds?: number
  /** The provider's own error_description (grant_refused): its words, not ours. */
  description?: string
  hint?: ReasonHint
}

const CODES = new Set<string>(REASON_CODES)
const HINTS = new Set<string>(REASON_HINTS)

/** Bounds that keep a stored reason well inside the 500 characters meetings.last_error keeps. */
const MAX_NAME = 80
const MAX_CODE = 100
const MAX_DESCRIPTION = 200

/** A timeout in seconds as reasons say it: 1, 0.5, 1.25 (two decimals; finer only below 10 ms). */
export function secondsOf(ms: number): number {
  const seconds = Number((ms / 1000).toFixed(2))
  return seconds > 0 ? seconds : ms / 1000
}

const text = (value: unknown, max: number): string | undefined => (typeof value === 'string' && value !== '' ? value.slice(0, max) : undefined)

/** Only the fields a reason has, of the right types and sizes; null when it is not a reason this version knows. */
function clean(value: unknown): Reason | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  if (typeof v.code !== 'string' || !CODES.has(v.code)) return null
  const reason: Reason = { code: v.code as ReasonCode }
  const provider = text(v.provider, MAX_NAME)
  if (provider) reason.provider = provider
  if (typeof v.status === 'number' && Number.isInteger(v.status) && v.status >= 100 && v.status <= 599) reason.status = v.status
  const errorCode = text(v.errorCode, MAX_CODE)
  if (errorCode) reason.errorCode = errorCode
  if (typeof v.seconds === 'number' && Number.isFinite(v.seconds) && v.seconds > 0) reason.seconds = v.seconds
  const description = text(v.description, MAX_DESCRIPTION)
  if (description) reason.description = description
  if (typeof v.hint === 'string' && HINTS.has(v.hint)) reason.hint = v.hint as ReasonHint
  return reason
}


/**
 * What to store for a failure: its structured reason when it has one, else its message as plain text (read back
 * as-is). Anything else (not an Error) stores as an internal error.
 */
export function storedReason(error: unknown): string {
  const reason = (error as { reason?: unknown } | null)?.reason
  if (reason && typeof reason === 'object' && clean(reason)) return encodeReason(reason as Reason)
  if (error instanceof Error) return error.message
  return encodeReason({ code: 'internal_error' })
}


const numberFormats = new Map<string, Intl.NumberFormat>()
function formatNumber(value: number, language: string): string {
  let format = numberFormats.get(language)
  if (!format) {
    try {
      format = new Intl.NumberFormat(language, { maximumFractionDigits: 3, useGrouping: false })
    } catch {
      format = new Intl.NumberFormat('en', { maximumFractionDigits: 3, useGrouping: false })
    }
    numberFormats.set(language, format)
  }
  return format.format(value)
}

function render(t: Translate, reason: Reason, language: string): string {
  const vars: Record<string, string | number> = {
    provider: reason.provider ?? t('reason.theProvider'),
    http:
      reason.status === undefined
        ? t('reason.httpUnknown')
        : reason.errorCode
          ? t('reason.httpCode', { status: reason.status, code: reason.errorCode })
          : t('reason.http', { status: reason.status }),
    duration: reason.seconds === 1 ? t('reason.seconds.one') : t('reason.seconds.other', { seconds: formatNumber(reason.seconds ?? 0, language) }),
    // grant_refused and client_refused: the OAuth error code, with the provider's description when it gave one.
    code: reason.description ? `${reason.errorCode ?? ''}: ${reason.description}` : (reason.errorCode ?? ''),
  }
  // A timeout stored without its duration (hand-edited, or cut off) still says what happened.
  const key = reason.code === 'timeout' && reason.seconds === undefined ? 'reason.timeoutNoDuration' : `reason.${reason.code}`
  const said = t(key as MessageKey, vars)
  return reason.hint ? t(`reason.hint.${reason.hint}` as MessageKey, { reason: said }) : said
}

const providerReasons = defineStoredReason<Reason>({
  clean,
  fallback: { code: 'internal_error' },
  render,
  // JSON this version does not know still names its provider when it can.
  unknown: (t, value) => t('reason.unknown', { provider: text(value?.provider, MAX_NAME) ?? t('reason.theProvider') }),
  shorten: ['description'],
})

/** The stored form (see i18n/stored-reason.ts): JSON text for meetings.last_error and meeting_events.detail. */
export const encodeReason = providerReasons.encode

/** Parses a stored reason; null for plain text and for what this version does not know. */
export const parseReason = providerReasons.parse

/**
 * A stored reason (or a Reason) in the reader's words: a structured reason through the catalog's `reason.<code>`
 * keys; plain text (rows from before reasons were structured) as it is; JSON this version does not know as a
 * general "something went wrong at the provider". Never throws, never shows raw JSON. `language` only formats
 * numbers (0.5 → "0,5"); the words come from `t`.
 */
export function reasonText(t: Translate, stored: unknown, language: Language | string = 'en'): string {
  return providerReasons.text(t, stored, language)
}

/** The English rendering: the message of the errors that carry a reason (logs, exceptions, tests). */
export const englishReason = providerReasons.english
