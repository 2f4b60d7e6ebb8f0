import type { Db } from '../database.js'
import type { InvitationSnapshot } from '../../model/invitation.js'

export type OutboxState = 'waiting' | 'queued' | 'sending' | 'sent' | 'failed' | 'superseded'

export interface OutboxMessage {
  id: number
  followUpId: number | null
  userId: number
  recipient: string
  kind: 'request' | 'cancel'
  sequence: number
  snapshot: InvitationSnapshot
  state: OutboxState
  attempts: number
  /** Why the last attempt failed: a stored mail reason (JSON, see reason.ts) or, in older rows, plain text. */
  lastError: string
  messageId: string
  sentAt: string | null
}

interface Row {
  id: number
  follow_up_id: number | null
  user_id: number
  recipient: string
  kind: 'request' | 'cancel'
  sequence: number
  snapshot: string
  state: OutboxState
  attempts: number
  last_error: string
  message_id: string
  sent_at: string | null
}

const toMessage = (r: Row): OutboxMessage => ({
  id: r.id,
  followUpId: r.follow_up_id,
  userId: r.user_id,
  recipient: r.recipient,
  kind: r.kind,
  sequence: r.sequence,
  snapshot: JSON.parse(r.snapshot) as InvitationSnapshot,
  state: r.state,
  attempts: r.attempts,
  lastError: r.last_error,
  messageId: r.message_id,
  sentAt: r.sent_at,
})

export interface QueuedInvitation {
  followUpId: number
  userId: number
  recipient: string
  kind: 'request' | 'cancel'
  snapshot: InvitationSnapshot
  /** Waits for the video link before it may go out. */
  waiting: boolean
  /** `<random@installation-host>` (RFC 5322). */
  messageId: string
}

/**
 * The mail outbox. Messages are queued inside the transaction of the change that causes them, so a saved
 * change always has its mail, and a rolled-back one never does. A newer message to the same attendee about
 * the same follow-up replaces an older one that has not gone out yet.
 */
export function createOutboxRepository(db: Db, now: () => number = Date.now) {
  const supersede = db.prepare(
    "UPDATE outbox SET state = 'superseded' WHERE follow_up_id = ? AND recipient = ? AND state IN ('waiting', 'queued')",
  )
  const insert = db.prepare(
    `INSERT INTO outbox (follow_up_id, user_id, recipient, kind, sequence, snapshot, state, message_id)
     VALUES (@followUpId, @userId, @recipient, @kind, @sequence, @snapshot, @state, @messageId)`,
  )
  const release = db.prepare("UPDATE outbox SET state = 'queued', next_attempt_at = 0 WHERE follow_up_id = ? AND state = 'waiting'")
  // A 'sending' row whose lease ran out was abandoned by a worker that stopped (crash, kill -9). Without
  // sent_at it never reached the mail server's final "." and is sent again; with sent_at it may well have
  // arrived (the server's answer was lost with the process), so it is never sent again: see handedOff().
  const claim = db.prepare<{ now: number; lockUntil: number; limit: number }, Row>(
    `UPDATE outbox SET state = 'sending', locked_until = @lockUntil
     WHERE id IN (SELECT id FROM outbox WHERE state IN ('queued', 'sending') AND sent_at IS NULL AND next_attempt_at <= @now AND locked_until <= @now
                  ORDER BY id LIMIT @limit)
     RETURNING *`,
  )
  const recover = db.prepare<{ now: number }, Row>(
    `UPDATE outbox SET state = 'sent', attempts = attempts + 1, last_error = '', locked_until = 0
     WHERE state = 'sending' AND sent_at IS NOT NULL AND locked_until <= @now
     RETURNING *`,
  )
  const handOff = db.prepare("UPDATE outbox SET sent_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ? AND state = 'sending'")
  const sent = db.prepare("UPDATE outbox SET state = 'sent', sent_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), attempts = attempts + 1, last_error = '', locked_until = 0 WHERE id = ? AND state = 'sending'")
  // The server answered (or never got the whole message): not handed off after all.
  const retry = db.prepare("UPDATE outbox SET state = 'queued', attempts = attempts + 1, last_error = ?, next_attempt_at = ?, locked_until = 0, sent_at = NULL WHERE id = ? AND state = 'sending'")
  const failed = db.prepare("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, locked_until = 0, sent_at = NULL WHERE id = ? AND state = 'sending'")
  const wait = db.prepare("UPDATE outbox SET state = 'waiting', locked_until = 0, sent_at = NULL WHERE id = ? AND state = 'sending'")
  const attempt = db.prepare('INSERT INTO outbox_attempts (outbox_id, ok, detail) VALUES (?, ?, ?)')
  const everQueued = db.prepare<[number], number>('SELECT COUNT(*) FROM outbox WHERE follow_up_id = ?').pluck()
  const latest = db.prepare<[number], Row>(
    `SELECT o.* FROM outbox o JOIN (SELECT recipient, MAX(id) AS id FROM outbox WHERE follow_up_id = ? AND state != 'superseded' GROUP BY recipient) l ON l.id = o.id`,
  )
  const retryFailed = db.prepare("UPDATE outbox SET state = 'queued', next_attempt_at = 0, attempts = 0 WHERE id = ? AND user_id = ? AND state = 'failed'")
  const inFlight = db.prepare<[number, string], number>("SELECT COUNT(*) FROM outbox WHERE follow_up_id = ? AND recipient = ? AND state IN ('sending', 'sent')").pluck()
  const counts = db.prepare<[], { state: string; n: number }>('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state')

  return {
    /** Call inside the transaction of the change. */
    queue(message: QueuedInvitation): void {
      supersede.run(message.followUpId, message.recipient)
      insert.run({
        followUpId: message.followUpId,
        userId: message.userId,
        recipient: message.recipient,
        kind: message.kind,
        sequence: message.snapshot.sequence,
        snapshot: JSON.stringify(message.snapshot),
        state: message.waiting ? 'waiting' : 'queued',
        messageId: message.messageId,
      })
    },
    /** An invitation not sent yet must not go out (the attendee was removed, or the follow-up deleted). */
    withdraw(followUpId: number, recipient: string): number {
      return supersede.run(followUpId, recipient).changes
    },
    /** Whether anything about this follow-up was ever queued: the next invitation's SEQUENCE rises. */
    everQueued(followUpId: number): boolean {
      return everQueued.get(followUpId)! > 0
    },
    /** Whether this attendee has (or is being sent) an invitation, so a removal must cancel it. */
    reached(followUpId: number, recipient: string): boolean {
      return inFlight.get(followUpId, recipient)! > 0
    },
    /** The video link exists now: invitations that waited for it may go. */
    releaseWaiting(followUpId: number): number {
      return release.run(followUpId).changes
    },
    claimDue(limit: number, lockMs: number): OutboxMessage[] {
      const t = now()
      return claim.all({ now: t, lockUntil: t + lockMs, limit }).map(toMessage)
    },
    /**
     * Call at the last moment before the final "." of the message goes to the mail server, i.e. when the
     * server may take the message: from here on, a worker that dies before recording the server's answer
     * leaves a message that must not be sent again (see recoverHandedOff). False: the row is not ours to send.
     */
    handedOff(message: OutboxMessage): boolean {
      return handOff.run(message.id).changes === 1
    },
    /**
     * Messages a stopped worker had handed to the mail server (their lease ran out): counted as sent, never
     * sent again. An attendee may, rarely, miss one (the process died in the microseconds between recording
     * the hand-off and writing the "."), but never gets it twice. Returns them.
     */
    recoverHandedOff(detail: string): OutboxMessage[] {
      return db.transaction(() =>
        recover.all({ now: now() }).map((row) => {
          attempt.run(row.id, 1, detail)
          return toMessage(row)
        }),
      )()
    },
    /** False: the row was not ours to mark (its lease was lost). */
    markSent(message: OutboxMessage, detail: string): boolean {
      return db.transaction(() => {
        if (sent.run(message.id).changes === 0) return false
        attempt.run(message.id, 1, detail.slice(0, 500))
        return true
      })()
    },
    markRetry(message: OutboxMessage, at: number, detail: string): void {
      db.transaction(() => {
        retry.run(detail.slice(0, 500), at, message.id)
        attempt.run(message.id, 0, detail.slice(0, 500))
      })()
    },
    markFailed(message: OutboxMessage, detail: string): void {
      db.transaction(() => {
        failed.run(detail.slice(0, 500), message.id)
        attempt.run(message.id, 0, detail.slice(0, 500))
      })()
    },
    /** Back to waiting for the video link (it disappeared meanwhile). */
    markWaiting(message: OutboxMessage): void {
      wait.run(message.id)
    },
    /** The newest message per attendee of a follow-up: its delivery state for the page. */
    deliveries(followUpId: number): OutboxMessage[] {
      return latest.all(followUpId).map(toMessage)
    },
    retryFailed(id: number, userId: number): boolean {
      return retryFailed.run(id, userId).changes === 1
    },
    counts(): Record<string, number> {
      return Object.fromEntries(counts.all().map((r) => [r.state, r.n]))
    },
  }
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>
