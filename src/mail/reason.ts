/**
 * Why an email could not be sent, as data: what transport.ts found out about the mail server's answer (or its
 * silence) and what the outbox worker found out about the sender's settings, without the words. The words come
 * from the i18n catalogs (keys `mail.reason.<code>`) in the reader's language when the reason is shown; the
 * English rendering is what logs get.
 *
 * What the server itself said (its reply line, "550 5.1.1 Mailbox unavailable") and the transport's technical
 * message ("connect ECONNREFUSED 127.0.0.1:25", a certificate error) are kept verbatim as parameters: admins need
 * the exact text, and it is not ours to translate.
 *
 * Stored where mail failures are kept for later pages (outbox.last_error, outbox_attempts.detail) as JSON text,
 * e.g. {"code":"recipient_refused","status":550,"answer":"550 Mailbox unavailable"}; rows written before held plain
 * English, and still show as they are. The same idea as providers/reason.ts, for mail.
 */
import type { Language } from '../i18n/languages.js'
import type { MessageKey, Translate } from '../i18n/index.js'
import { defineStoredReason, MAX_STORED_REASON } from '../i18n/stored-reason.js'

export const MAIL_REASON_CODES = [
  // The mail server, or the way to it.
  'connection_refused',
  'host_not_found',
  'timeout',
  'tls_failed',
  'auth_refused',
  'sender_refused',
  'recipient_refused',
  'message_refused',
  'rejected',
  'connection_dropped',
  'connection_failed',
  'send_failed',
  // The sender's settings, before any server is tried.
  'no_settings',
  'password_unreadable',
  // The outbox itself.
  'internal_error',
  'handed_off',
] as const
export type MailReasonCode = (typeof MAIL_REASON_CODES)[number]

/** Where a timeout happened: no connection at all, no greeting after connecting, or silence later on. */
export const MAIL_TIMEOUT_PHASES = ['connect', 'greeting', 'socket'] as const
export type MailTimeoutPhase = (typeof MAIL_TIMEOUT_PHASES)[number]

export interface MailReason {
  code: MailReasonCode
  /** The SMTP reply code, where the server gave one. */
  status?: number
  /** The server's own answer, verbatim (its reply line). */
  answer?: string
  /** The transport's technical message, verbatim (system error, certificate problem), where no server answered. */
  detail?: string
  /** For `timeout`. */
  phase?: MailTimeoutPhase
}

const CODES = new Set<string>(MAIL_REASON_CODES)
const PHASES = new Set<string>(MAIL_TIMEOUT_PHASES)

/** What outbox.last_error keeps; a stored reason must fit whole, or it would read back as damaged. */
export const MAX_STORED = MAX_STORED_REASON
const MAX_TEXT = 300

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.replace(/[\r\n]+/g, ' ').trim().slice(0, MAX_TEXT) : undefined

/** Only the fields a mail reason has, of the right types and sizes; null when it is not one this version knows. */
function clean(value: unknown): MailReason | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  if (typeof v.code !== 'string' || !CODES.has(v.code)) return null
  const reason: MailReason = { code: v.code as MailReasonCode }
  if (typeof v.status === 'number' && Number.isInteger(v.status) && v.status >= 200 && v.status <= 599) reason.status = v.status
  const answer = text(v.answer)
  if (answer) reason.answer = answer
  const detail = text(v.detail)
  if (detail) reason.detail = detail
  if (typeof v.phase === 'string' && PHASES.has(v.phase)) reason.phase = v.phase as MailTimeoutPhase
  return reason
}

const mailReasons = defineStoredReason<MailReason>({
  clean,
  fallback: { code: 'internal_error' },
  render: (t, reason) => render(t, reason),
  unknown: (t) => t('mail.reason.unknown'),
  // Too long (a long answer full of characters JSON escapes): the transport's detail gives way first, then the
  // server's answer, a little at a time, so as much of the server's own words as fits is kept.
  shorten: ['detail', 'answer'],
  maxStored: MAX_STORED,
})

/** The stored form (see i18n/stored-reason.ts): JSON text that always fits outbox.last_error whole. */
export const encodeMailReason = mailReasons.encode

/** Parses a stored mail reason; null for plain text and for what this version does not know. */
export const parseMailReason = mailReasons.parse

function render(t: Translate, reason: MailReason): string {
  const vars = {
    status: reason.status ?? '',
    // The server's words and the transport's, verbatim; "no details" when none were kept.
    answer: reason.answer ?? (reason.status ? String(reason.status) : t('mail.reason.noDetail')),
    detail: reason.detail ?? t('mail.reason.noDetail'),
  }
  const key = reason.code === 'timeout' ? `mail.reason.timeout.${reason.phase ?? 'socket'}` : `mail.reason.${reason.code}`
  return t(key as MessageKey, vars)
}

/**
 * A stored mail reason (or a MailReason) in the reader's words: a structured reason through the catalog's
 * `mail.reason.<code>` keys, with the server's own answer verbatim inside; plain text (rows from before reasons
 * were structured) as it is; JSON this version does not know as a general sentence. Never throws, never shows raw
 * JSON. The words come from `t`.
 */
export function mailReasonText(t: Translate, stored: unknown, language: Language | string = 'en'): string {
  return mailReasons.text(t, stored, language)
}

/** The English rendering: for logs and the SendResult's detail. */
export const englishMailReason = mailReasons.english
