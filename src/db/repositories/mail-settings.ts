import type { Db } from '../database.js'
import type { Vault } from '../../security/vault.js'
import { VaultError } from '../../security/vault.js'

export type MailSecurity = 'tls' | 'starttls' | 'none'
export const MAIL_SECURITY: readonly MailSecurity[] = ['tls', 'starttls', 'none']

export interface MailServer {
  host: string
  port: number
  security: MailSecurity
  username: string
  fromName: string
  fromAddress: string
}

export interface StoredMailSettings extends MailServer {
  id: number
  userId: number | null
  passwordSet: boolean
  /** The stored password no longer opens (SECRET_KEY changed): it must be typed again. */
  passwordUnreadable: boolean
}

export interface EffectiveMailSettings extends MailServer {
  source: 'user' | 'installation'
  password: string | null
  /** A password is stored but no longer opens (SECRET_KEY changed, or the value was damaged). */
  passwordUnreadable?: boolean
}

interface Row {
  id: number
  user_id: number | null
  host: string
  port: number
  security: MailSecurity
  username: string
  password_enc: string | null
  from_name: string
  from_address: string
}

const serverOf = (row: Row): MailServer => ({ host: row.host, port: row.port, security: row.security, username: row.username, fromName: row.from_name, fromAddress: row.from_address })

const aad = (id: number, userId: number | null) => `mail_settings:${id}:${userId ?? 'installation'}`

/** True for hosts on this machine: the only place unencrypted SMTP is allowed. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host) || host === '::1' || host === '[::1]'
}

/** Users' own outgoing mail servers and the installation-wide one; passwords sealed, never shown again. */
export function createMailSettingsRepository(db: Db, vault: Vault) {
  const forUser = db.prepare<[number], Row>('SELECT * FROM mail_settings WHERE user_id = ?')
  const installation = db.prepare<[], Row>('SELECT * FROM mail_settings WHERE user_id IS NULL')
  const insert = db.prepare<{ userId: number | null; host: string; port: number; security: string; username: string; fromName: string; fromAddress: string }, { id: number }>(
    `INSERT INTO mail_settings (user_id, host, port, security, username, from_name, from_address)
     VALUES (@userId, @host, @port, @security, @username, @fromName, @fromAddress) RETURNING id`,
  )
  const update = db.prepare(
    `UPDATE mail_settings SET host = @host, port = @port, security = @security, username = @username, from_name = @fromName,
       from_address = @fromAddress, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = @id`,
  )
  const setPassword = db.prepare('UPDATE mail_settings SET password_enc = ? WHERE id = ?')
  const removeUser = db.prepare('DELETE FROM mail_settings WHERE user_id = ?')
  const removeInstallation = db.prepare('DELETE FROM mail_settings WHERE user_id IS NULL')

  const open = (row: Row): string | null | VaultError => {
    if (!row.password_enc) return null
    try {
      return vault.open(row.password_enc, aad(row.id, row.user_id))
    } catch (error) {
      if (error instanceof VaultError) return error
      throw error
    }
  }
  const model = (row: Row): StoredMailSettings => {
    const password = open(row)
    return {
      id: row.id,
      userId: row.user_id,
      ...serverOf(row),
      passwordSet: row.password_enc !== null,
      passwordUnreadable: password instanceof VaultError,
    }
  }
  const save = (existing: Row | undefined, userId: number | null, server: MailServer, password: string | null, clearPassword: boolean) =>
    db.transaction(() => {
      const id = existing ? (update.run({ ...server, id: existing.id }), existing.id) : insert.get({ ...server, userId })!.id
      if (password) setPassword.run(vault.seal(password, aad(id, userId)), id)
      else if (clearPassword) setPassword.run(null, id)
    })()

  return {
    getForUser(userId: number): StoredMailSettings | undefined {
      const row = forUser.get(userId)
      return row && model(row)
    },
    getInstallation(): StoredMailSettings | undefined {
      const row = installation.get()
      return row && model(row)
    },
    /** A null password keeps the stored one (write-only field); clearPassword removes it (no login). */
    saveForUser(userId: number, server: MailServer, password: string | null, clearPassword = false): void {
      save(forUser.get(userId), userId, server, password, clearPassword)
    },
    saveInstallation(server: MailServer, password: string | null, clearPassword = false): void {
      save(installation.get(), null, server, password, clearPassword)
    },
    removeForUser(userId: number): void {
      removeUser.run(userId)
    },
    removeInstallation(): void {
      removeInstallation.run()
    },
    /** The stored password of a user's own server (userId) or the installation's (null), if it opens. */
    storedPassword(userId: number | null): string | null {
      const row = userId === null ? installation.get() : forUser.get(userId)
      const password = row ? open(row) : null
      return password instanceof VaultError ? null : password
    },
    /** The server a user's mail goes through: their own, else the installation's, else none. */
    effective(userId: number): EffectiveMailSettings | null {
      const row = forUser.get(userId) ?? installation.get()
      if (!row) return null
      const password = open(row)
      return {
        source: row.user_id === null ? 'installation' : 'user',
        ...serverOf(row),
        password: password instanceof VaultError ? null : password,
        passwordUnreadable: password instanceof VaultError,
      }
    },
  }
}

export type MailSettingsRepository = ReturnType<typeof createMailSettingsRepository>
