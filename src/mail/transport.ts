import nodemailer from 'nodemailer'
import type { Transporter } from 'nodemailer'
import { englishMailReason, type MailReason } from './reason.js'
import type { EffectiveMailSettings } from '../db/repositories/mail-settings.js'

export interface SendResult {
  ok: boolean
  /** The server's answer when it accepted; when not, the reason in English (logs). Shown to users: `reason`. */
  detail: string
  /** Why it failed, as data: said in the reader's language by mailReasonText, stored by encodeMailReason. */
  reason?: MailReason
  /** Worth trying again later (the server was down or said "try later"). */
  transient: boolean
  kind?: 'connection' | 'tls' | 'auth' | 'timeout' | 'recipient' | 'rejected' | 'other'
}

export interface MailTimeouts {
  connectionMs: number
  greetingMs: number
  socketMs: number
}

export const DEFAULT_TIMEOUTS: MailTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 }

export function createTransport(settings: EffectiveMailSettings, timeouts: MailTimeouts = DEFAULT_TIMEOUTS): Transporter {
  return nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    ...(settings.username && { auth: { user: settings.username, pass: settings.password ?? '' } }),
    connectionTimeout: timeouts.connectionMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.socketMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  })
}

const failure = (kind: NonNullable<SendResult['kind']>, transient: boolean, reason: MailReason): SendResult => ({
  ok: false,
  transient,
  kind,
  reason,
  detail: englishMailReason(reason),
})

/** Turns nodemailer's errors into the exact reason (as data, with the server's own answer verbatim), and whether a retry could help. */
export function describeSmtpError(error: unknown): SendResult {
  const e = (error ?? {}) as { code?: string; responseCode?: number; response?: string; message?: string; command?: string; timeoutType?: string }
  const response = (e.response ?? '').replace(/[\r\n]+/g, ' ').trim().slice(0, 300)
  const message = (e.message ?? String(error)).replace(/[\r\n]+/g, ' ').trim().slice(0, 300)
  const code = /ECONNREFUSED/.test(message) ? 'ECONNREFUSED' : (/ETIMEDOUT|timed? ?out/i.test(message) || e.timeoutType) && e.code !== 'EAUTH' ? 'ETIMEDOUT' : e.code
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined
  // What the server said, verbatim; nodemailer's own sentence only when the server said nothing.
  const answer = response || message
  const withStatus = (reason: MailReason): MailReason => (status === undefined ? reason : { ...reason, status })
  switch (code) {
    case 'ECONNREFUSED':
      return failure('connection', true, { code: 'connection_refused', detail: message })
    case 'EDNS':
    case 'ENOTFOUND':
      return failure('connection', true, { code: 'host_not_found', detail: message })
    case 'ETIMEDOUT': {
      const phase =
        e.timeoutType === 'CONNECT_TIMEOUT' || /connection timeout/i.test(message) ? 'connect' : e.timeoutType === 'GREETING_TIMEOUT' || /greeting/i.test(message) ? 'greeting' : 'socket'
      return failure('timeout', true, { code: 'timeout', phase })
    }
    case 'ETLS':
      return failure('tls', false, { code: 'tls_failed', detail: message })
    case 'EAUTH':
      return failure('auth', false, withStatus({ code: 'auth_refused', answer }))
    case 'EENVELOPE': {
      const transient = (status ?? 500) < 500
      // Refused before asking the server (no recipients, an address it cannot take): nodemailer's words, not the server's.
      if (!response && status === undefined) return failure('recipient', false, { code: 'send_failed', detail: message })
      if (e.command === 'MAIL FROM') return failure('rejected', transient, withStatus({ code: 'sender_refused', answer }))
      if (e.command === 'DATA') return failure('rejected', transient, withStatus({ code: 'message_refused', answer }))
      return failure('recipient', transient, withStatus({ code: 'recipient_refused', answer }))
    }
    case 'EMESSAGE':
      if (status) return failure('rejected', status < 500, withStatus({ code: 'message_refused', answer }))
      return failure('other', true, { code: 'send_failed', detail: message })
    case 'ESOCKET':
    case 'ECONNECTION':
      if (/certificate|self.signed|TLS|SSL|wrong version/i.test(message)) return failure('tls', false, { code: 'tls_failed', detail: message })
      if (/closed unexpectedly|closed the connection|socket close|ECONNRESET|EPIPE|hang up/i.test(message)) {
        return failure('connection', true, { code: 'connection_dropped' })
      }
      return failure('connection', true, { code: 'connection_failed', detail: message })
    default:
      if (status) return failure('rejected', status < 500, withStatus({ code: 'rejected', answer }))
      return failure('other', true, { code: 'send_failed', detail: message })
  }
}
