import { FormReader, isEmail } from '../forms.js'
import type { Translate } from '../i18n/index.js'
import { isLoopbackHost, MAIL_SECURITY, type MailServer } from '../db/repositories/mail-settings.js'

const HOST = /^(?=.{1,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$|^\d{1,3}(\.\d{1,3}){3}$|^\[?::1\]?$/

/** Reads the outgoing-server form; the password is write-only (empty keeps the stored one). */
export function readMailForm(body: unknown, t: Translate) {
  const f = new FormReader(body, t)
  const host = f.text('host', { required: true, max: 253 }).toLowerCase()
  if (host && !f.errors.host && !HOST.test(host)) f.fail('host', t('email.error.host'))
  const portRaw = f.text('port', { required: true, max: 5 })
  const port = Number(portRaw)
  if (portRaw && !f.errors.port && (!/^\d{1,5}$/.test(portRaw) || port < 1 || port > 65535)) f.fail('port', t('email.error.port'))
  const security = f.choice('security', MAIL_SECURITY, 'starttls')
  if (security === 'none' && host && !isLoopbackHost(host)) f.fail('security', t('email.error.noneOnlyLoopback'))
  const username = f.text('username', { max: 254 })
  const password = f.password('password', { required: false, max: 500 })
  const clearPassword = f.checkbox('clearPassword')
  const fromName = f.text('fromName', { required: true, max: 100 })
  const fromAddress = f.email('fromAddress')
  if (fromAddress && !f.errors.fromAddress && !isEmail(fromAddress)) f.fail('fromAddress', t('error.email'))
  const server: MailServer | null = f.ok ? { host, port, security, username, fromName, fromAddress } : null
  return { server, password: password || null, clearPassword, values: f.values, errors: f.errors, form: f }
}
