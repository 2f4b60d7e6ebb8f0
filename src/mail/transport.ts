import nodemailer from 'nodemailer'
import type { Transporter } from 'nodemailer'
import type { EffectiveMailSettings } from './settings.js'

export interface SendResult {
  ok: boolean
  /** The server's answer, or what went wrong, in words an admin can act on (no secrets). */
  detail: string
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

/** Turns nodemailer's errors into the exact reason, and whether a retry could help. */
export function describeSmtpError(error: unknown): SendResult {
  const e = error as { code?: string; responseCode?: number; response?: string; message?: string; command?: string }
  const response = (e.response ?? '').replace(/[\r\n]+/g, ' ').slice(0, 300)
  const message = (e.message ?? String(error)).replace(/[\r\n]+/g, ' ').slice(0, 300)
  const code = /ECONNREFUSED/.test(message) ? 'ECONNREFUSED' : /ETIMEDOUT|timed? ?out/i.test(message) && e.code !== 'EAUTH' ? 'ETIMEDOUT' : e.code
  switch (code) {
    case 'ECONNREFUSED':
      return { ok: false, transient: true, kind: 'connection', detail: `Connection refused: nothing accepts connections at that host and port (${message}).` }
    case 'EDNS':
    case 'ENOTFOUND':
      return { ok: false, transient: true, kind: 'connection', detail: `The server's name could not be found (${message}).` }
    case 'ETIMEDOUT':
      return { ok: false, transient: true, kind: 'timeout', detail: `The server did not answer in time (${message}).` }
    case 'ETLS':
      return { ok: false, transient: false, kind: 'tls', detail: `TLS failure: ${message}` }
    case 'EAUTH':
      return { ok: false, transient: false, kind: 'auth', detail: `Authentication failed: ${response || message}` }
    case 'EENVELOPE':
      return { ok: false, transient: (e.responseCode ?? 500) < 500, kind: 'recipient', detail: `The server refused a recipient: ${response || message}` }
    case 'ESOCKET':
    case 'ECONNECTION':
      if (/certificate|self.signed|TLS|SSL|wrong version/i.test(message)) {
        return { ok: false, transient: false, kind: 'tls', detail: `TLS failure: ${message}` }
      }
      return { ok: false, transient: true, kind: 'connection', detail: `The connection failed: ${message}` }
    default:
      if (e.responseCode) {
        return { ok: false, transient: e.responseCode < 500, kind: 'rejected', detail: `The server answered ${e.responseCode}: ${response || message}` }
      }
      return { ok: false, transient: true, kind: 'other', detail: message }
  }
}
