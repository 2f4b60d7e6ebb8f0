import type { Db } from '../database.js'

export interface AuditEntry {
  id: number
  at: string
  actorUserId: number | null
  actorName: string
  action: string
  subject: string
  details: Record<string, unknown>
}

export interface Actor {
  id: number | null
  name: string
}

export function createAuditRepository(db: Db) {
  const insert = db.prepare(
    'INSERT INTO audit_log (actor_user_id, actor_name, action, subject, details) VALUES (?, ?, ?, ?, ?)',
  )
  const page = db.prepare<[number, number], { id: number; at: string; actor_user_id: number | null; actor_name: string; action: string; subject: string; details: string }>(
    'SELECT id, at, actor_user_id, actor_name, action, subject, details FROM audit_log ORDER BY at DESC, id DESC LIMIT ? OFFSET ?',
  )
  const total = db.prepare<[], number>('SELECT COUNT(*) FROM audit_log').pluck()
  return {
    /** Records who did what. `details` must never hold secrets: callers pass names and ids only. */
    record(actor: Actor, action: string, subject = '', details: Record<string, unknown> = {}): void {
      insert.run(actor.id, actor.name, action, subject, JSON.stringify(details))
    },
    page(limit: number, offset: number): { entries: AuditEntry[]; total: number } {
      return {
        total: total.get()!,
        entries: page.all(limit, offset).map((row) => ({
          id: row.id,
          at: row.at,
          actorUserId: row.actor_user_id,
          actorName: row.actor_name,
          action: row.action,
          subject: row.subject,
          details: JSON.parse(row.details) as Record<string, unknown>,
        })),
      }
    },
  }
}

export type AuditRepository = ReturnType<typeof createAuditRepository>
