import type { Db } from '../database.js'

/** The job that brings a follow-up's provider meeting in line with the follow-up (src/meetings/sync.ts). */
export const SYNC_JOB = 'meeting.sync'

export interface Job {
  id: number
  kind: string
  followUpId: number | null
  runAt: number
  attempts: number
  lastError: string
}

interface Row {
  id: number
  kind: string
  follow_up_id: number | null
  run_at: number
  attempts: number
  last_error: string
}

const toJob = (r: Row): Job => ({ id: r.id, kind: r.kind, followUpId: r.follow_up_id, runAt: r.run_at, attempts: r.attempts, lastError: r.last_error })

/** Durable jobs: claimed with a lock that expires, so a crashed worker's job is picked up again. */
export function createJobRepository(db: Db) {
  const claimDue = db.prepare<{ now: number; lockUntil: number; limit: number }, Row>(
    `UPDATE jobs SET locked_until = @lockUntil
     WHERE id IN (SELECT id FROM jobs WHERE run_at <= @now AND locked_until <= @now ORDER BY run_at LIMIT @limit)
     RETURNING id, kind, follow_up_id, run_at, attempts, last_error`,
  )
  const claimOne = db.prepare<{ kind: string; followUpId: number; now: number; lockUntil: number }, Row>(
    `UPDATE jobs SET locked_until = @lockUntil WHERE kind = @kind AND follow_up_id = @followUpId AND locked_until <= @now
     RETURNING id, kind, follow_up_id, run_at, attempts, last_error`,
  )
  // Queued again while it runs (a newer change): run_at moves, so the running job is not completed but runs again.
  const enqueue = db.prepare(
    `INSERT INTO jobs (kind, follow_up_id, run_at) VALUES (?, ?, ?)
     ON CONFLICT (kind, follow_up_id) DO UPDATE SET run_at = CASE WHEN excluded.run_at = jobs.run_at THEN excluded.run_at + 1 ELSE excluded.run_at END, attempts = 0`,
  )
  const done = db.prepare('DELETE FROM jobs WHERE id = ? AND run_at = ?')
  const retry = db.prepare('UPDATE jobs SET run_at = ?, attempts = attempts + 1, last_error = ?, locked_until = 0 WHERE id = ?')
  const release = db.prepare('UPDATE jobs SET locked_until = 0 WHERE id = ?')
  const wake = db.prepare(
    `UPDATE jobs SET run_at = ?, attempts = 0 WHERE kind = '${SYNC_JOB}'
       AND follow_up_id IN (SELECT id FROM follow_ups WHERE user_id = ?)`,
  )
  const nextRunAt = db.prepare<[], number | null>('SELECT MIN(run_at) FROM jobs').pluck()
  const pendingCount = db.prepare<[], number>('SELECT COUNT(*) FROM jobs').pluck()

  return {
    /** Queues (or re-queues) a follow-up's meeting sync; a job being run meanwhile is not completed but runs again. */
    enqueueSync(followUpId: number, at: number): void {
      enqueue.run(SYNC_JOB, followUpId, at)
    },
    claimDue(now: number, limit: number, lockMs: number): Job[] {
      return claimDue.all({ now, lockUntil: now + lockMs, limit }).map(toJob)
    },
    claim(kind: string, followUpId: number, now: number, lockMs: number): Job | undefined {
      const row = claimOne.get({ kind, followUpId, now, lockUntil: now + lockMs })
      return row && toJob(row)
    },
    /** Done, unless the job was re-queued meanwhile (a newer change moved run_at): then it only unlocks. */
    complete(job: Job): void {
      if (done.run(job.id, job.runAt).changes === 0) release.run(job.id)
    },
    retry(job: Job, runAt: number, error: string): void {
      retry.run(runAt, error.slice(0, 500), job.id)
    },
    release(job: Job): void {
      release.run(job.id)
    },
    /** A user (re)connected: their waiting meetings may go now. */
    wakeForUser(userId: number, now: number): number {
      return wake.run(now, userId).changes
    },
    nextRunAt(): number | null {
      return nextRunAt.get() ?? null
    },
    count(): number {
      return pendingCount.get()!
    },
  }
}

export type JobRepository = ReturnType<typeof createJobRepository>
