import type { Db } from '../database.js'
import type { Language } from '../../i18n/languages.js'

export type Role = 'admin' | 'user'

export interface User {
  id: number
  email: string
  name: string
  role: Role
  language: Language
  timeZone: string
  active: boolean
  createdAt: string
}

interface UserRow {
  id: number
  email: string
  name: string
  role: Role
  language: Language
  time_zone: string
  active: number
  created_at: string
}

const COLUMNS = 'id, email, name, role, language, time_zone, active, created_at'

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    language: row.language,
    timeZone: row.time_zone,
    active: row.active === 1,
    createdAt: row.created_at,
  }
}

export interface NewUser {
  email: string
  name: string
  passwordHash: string
  role: Role
  language: Language
  timeZone: string
}

export class LastAdminError extends Error {
  constructor() {
    super('The last active administrator cannot be removed or demoted')
    this.name = 'LastAdminError'
  }
}

export class DuplicateEmailError extends Error {
  constructor() {
    super('A user with this email address already exists')
    this.name = 'DuplicateEmailError'
  }
}

export function createUserRepository(db: Db) {
  const byId = db.prepare<[number], UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ?`)
  const byEmail = db.prepare<[string], UserRow & { password_hash: string }>(
    `SELECT ${COLUMNS}, password_hash FROM users WHERE email = ?`,
  )
  const all = db.prepare<[], UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY active DESC, name COLLATE NOCASE, id`)
  const count = db.prepare<[], number>('SELECT COUNT(*) FROM users').pluck()
  const activeAdmins = db.prepare<[], number>("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1").pluck()
  const insert = db.prepare(
    `INSERT INTO users (email, name, password_hash, role, language, time_zone) VALUES (@email, @name, @passwordHash, @role, @language, @timeZone)`,
  )
  const setPassword = db.prepare(
    "UPDATE users SET password_hash = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?",
  )
  const setProfile = db.prepare(
    "UPDATE users SET name = @name, language = @language, time_zone = @timeZone, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = @id",
  )
  const setRole = db.prepare("UPDATE users SET role = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?")
  const setActive = db.prepare("UPDATE users SET active = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?")

  function insertUser(user: NewUser): User {
    try {
      const id = Number(insert.run(user).lastInsertRowid)
      return toUser(byId.get(id)!)
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateEmailError()
      throw error
    }
  }

  /** Demoting or deactivating must never leave the installation without an active admin. */
  function guardLastAdmin(id: number, change: () => void): void {
    db.transaction(() => {
      const user = byId.get(id)
      change()
      if (user?.role === 'admin' && user.active === 1 && activeAdmins.get() === 0) throw new LastAdminError()
    }).immediate()
  }

  return {
    findById(id: number): User | undefined {
      const row = byId.get(id)
      return row && toUser(row)
    },
    findByEmailWithHash(email: string): (User & { passwordHash: string }) | undefined {
      const row = byEmail.get(email.trim())
      return row && { ...toUser(row), passwordHash: row.password_hash }
    },
    list(): User[] {
      return all.all().map(toUser)
    },
    count(): number {
      return count.get()!
    },
    create: insertUser,
    /** Creates the first administrator, atomically: returns undefined when any user already exists. */
    createFirstAdmin(user: Omit<NewUser, 'role'>): User | undefined {
      return db
        .transaction(() => (count.get()! > 0 ? undefined : insertUser({ ...user, role: 'admin' })))
        .immediate()
    },
    updatePasswordHash(id: number, passwordHash: string): void {
      setPassword.run(passwordHash, id)
    },
    updateProfile(id: number, profile: { name: string; language: Language; timeZone: string }): void {
      setProfile.run({ id, ...profile })
    },
    setRole(id: number, role: Role): void {
      guardLastAdmin(id, () => setRole.run(role, id))
    },
    setActive(id: number, active: boolean): void {
      guardLastAdmin(id, () => {
        setActive.run(active ? 1 : 0, id)
      })
    },
  }
}

export type UserRepository = ReturnType<typeof createUserRepository>
