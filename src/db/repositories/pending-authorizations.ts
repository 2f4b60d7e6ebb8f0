import crypto from 'node:crypto'
import type { Db } from '../database.js'

export const PENDING_TTL_MS = 10 * 60 * 1000

export type Purpose = 'organization' | 'user'

export interface PendingAuthorization {
  userId: number
  provider: string
  purpose: Purpose
  verifierSealed: string
  returnTo: string
  createdAt: number
}

/** Why a callback's state was not accepted. */
export type StateProblem = 'unknown' | 'expired' | 'other_session' | 'other_provider' | 'replayed' | 'replayed_after_success'

export function hashOf(value: string): string {
  return crypto.createHash('sha256').update(value).digest('base64url')
}

interface Row {
  state_hash: string
  session_hash: string
  user_id: number
  provider: string
  purpose: Purpose
  verifier_enc: string
  return_to: string
  created_at: number
  consumed_at: number | null
  outcome: string
}

export function createPendingAuthorizationRepository(db: Db, now: () => number = Date.now) {
  const insert = db.prepare(
    `INSERT INTO pending_authorizations (state_hash, session_hash, user_id, provider, purpose, verifier_enc, return_to, created_at)
     VALUES (@stateHash, @sessionHash, @userId, @provider, @purpose, @verifierSealed, @returnTo, @createdAt)`,
  )
  // The one statement that spends a state: only an unconsumed, unexpired row of this session and provider.
  const consume = db.prepare<{ stateHash: string; sessionHash: string; provider: string; now: number; oldest: number }, Row>(
    `UPDATE pending_authorizations SET consumed_at = @now
     WHERE state_hash = @stateHash AND session_hash = @sessionHash AND provider = @provider
       AND consumed_at IS NULL AND created_at > @oldest
     RETURNING *`,
  )
  const find = db.prepare<[string], Row>('SELECT * FROM pending_authorizations WHERE state_hash = ?')
  const finish = db.prepare('UPDATE pending_authorizations SET outcome = ? WHERE state_hash = ?')
  const hold = db.prepare("UPDATE pending_authorizations SET held_enc = ?, outcome = 'held' WHERE state_hash = ?")
  const findHeld = db.prepare<[string, string, number], { held_enc: string; provider: string; return_to: string }>(
    `SELECT held_enc, provider, return_to FROM pending_authorizations
     WHERE state_hash = ? AND session_hash = ? AND user_id = ? AND outcome = 'held' AND held_enc IS NOT NULL`,
  )
  // RETURNING shows the row after the update, so the held value is read first, in the same transaction.
  const clearHeld = db.prepare("UPDATE pending_authorizations SET held_enc = NULL, outcome = 'success' WHERE state_hash = ?")
  const takeHeld = db.transaction((stateHash: string, sessionHash: string, userId: number) => {
    const row = findHeld.get(stateHash, sessionHash, userId)
    if (row) clearHeld.run(stateHash)
    return row
  })
  const sweep = db.prepare('DELETE FROM pending_authorizations WHERE created_at <= ?')

  return {
    create(value: { state: string; sessionId: string; userId: number; provider: string; purpose: Purpose; verifierSealed: string; returnTo?: string }): void {
      insert.run({
        stateHash: hashOf(value.state),
        sessionHash: hashOf(value.sessionId),
        userId: value.userId,
        provider: value.provider,
        purpose: value.purpose,
        verifierSealed: value.verifierSealed,
        returnTo: value.returnTo ?? '',
        createdAt: now(),
      })
    },
    /** Spends the state atomically, before any token request; or says why it cannot be spent. */
    consume(state: string, sessionId: string, provider: string): { ok: true; pending: PendingAuthorization } | { ok: false; problem: StateProblem; pending?: PendingAuthorization } {
      const stateHash = hashOf(state)
      const sessionHash = hashOf(sessionId)
      const t = now()
      const row = consume.get({ stateHash, sessionHash, provider, now: t, oldest: t - PENDING_TTL_MS })
      const model = (r: Row): PendingAuthorization => ({ userId: r.user_id, provider: r.provider, purpose: r.purpose, verifierSealed: r.verifier_enc, returnTo: r.return_to, createdAt: r.created_at })
      if (row) return { ok: true, pending: model(row) }
      const existing = find.get(stateHash)
      if (!existing) return { ok: false, problem: 'unknown' }
      if (existing.session_hash !== sessionHash) return { ok: false, problem: 'other_session' }
      if (existing.provider !== provider) return { ok: false, problem: 'other_provider' }
      if (existing.consumed_at !== null) {
        return { ok: false, problem: existing.outcome === 'success' ? 'replayed_after_success' : 'replayed', pending: model(existing) }
      }
      return { ok: false, problem: 'expired' }
    },
    finish(state: string, outcome: 'success' | 'failed'): void {
      finish.run(outcome, hashOf(state))
    },
    /** Keeps a finished sign-in (sealed) until the user confirms it may replace their connection. */
    hold(state: string, sealed: string): void {
      hold.run(sealed, hashOf(state))
    },
    /** Takes the held sign-in once: only by the session and user that made it. */
    takeHeld(state: string, sessionId: string, userId: number): { sealed: string; provider: string; returnTo: string } | undefined {
      const row = takeHeld.immediate(hashOf(state), hashOf(sessionId), userId)
      return row && { sealed: row.held_enc, provider: row.provider, returnTo: row.return_to }
    },
    /** Drops rows past any use (kept a day so a late replay is still recognised as one). */
    sweep(): number {
      return sweep.run(now() - 24 * 3600 * 1000).changes
    },
  }
}

export type PendingAuthorizationRepository = ReturnType<typeof createPendingAuthorizationRepository>
