import crypto from 'node:crypto'
import type { SessionStore } from '@fastify/session'
import type { Db } from '../database.js'

type Callback = (error?: unknown) => void
type GetCallback = Parameters<SessionStore['get']>[1]
type StoredSession = Parameters<GetCallback>[1]

function hashId(sessionId: string): string {
  return crypto.createHash('sha256').update(sessionId).digest('base64url')
}

/**
 * The sessions table, and the @fastify/session store on it. Sessions are only ever written here. Rows are keyed by a hash of the session id (a stolen database file holds
 * no usable session), carry the user id (so a password reset can sign a user out everywhere) and expire.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly getStmt
  private readonly setStmt
  private readonly destroyStmt
  private readonly sweepStmt
  private readonly endForUserStmt

  constructor(
    db: Db,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // Prepared once; looked up by the primary key; pluck() hands back the JSON text without a row object.
    this.getStmt = db.prepare<[string, number], string>('SELECT data FROM sessions WHERE id_hash = ? AND expires_at > ?').pluck()
    this.setStmt = db.prepare(
      `INSERT INTO sessions (id_hash, user_id, data, expires_at) VALUES (@id, @userId, @data, @expiresAt)
       ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, expires_at = excluded.expires_at`,
    )
    this.destroyStmt = db.prepare('DELETE FROM sessions WHERE id_hash = ?')
    this.sweepStmt = db.prepare('DELETE FROM sessions WHERE expires_at <= ?')
    this.endForUserStmt = db.prepare('DELETE FROM sessions WHERE user_id = ?')
  }

  get(sessionId: string, callback: GetCallback): void {
    try {
      const data = this.getStmt.get(hashId(sessionId), this.now())
      callback(null, data === undefined ? null : (JSON.parse(data) as StoredSession))
    } catch (error) {
      callback(error)
    }
  }

  set(sessionId: string, stored: object, callback: Callback): void {
    const session = stored as { cookie?: { expires?: Date | string | null }; userId?: unknown }
    try {
      const cookieExpiry = session.cookie?.expires ? new Date(session.cookie.expires).getTime() : NaN
      const expiresAt = Number.isFinite(cookieExpiry) ? cookieExpiry : this.now() + this.ttlMs
      const userId = typeof session.userId === 'number' ? session.userId : null
      this.setStmt.run({ id: hashId(sessionId), userId, data: JSON.stringify(session), expiresAt })
      callback()
    } catch (error) {
      callback(error)
    }
  }

  destroy(sessionId: string, callback: Callback): void {
    try {
      this.destroyStmt.run(hashId(sessionId))
      callback()
    } catch (error) {
      callback(error)
    }
  }

  /** Signs a user out everywhere (password changed, account deactivated); returns how many sessions ended. */
  endAllOf(userId: number): number {
    return this.endForUserStmt.run(userId).changes
  }

  /** Removes expired sessions; returns how many. */
  sweep(): number {
    return this.sweepStmt.run(this.now()).changes
  }
}
