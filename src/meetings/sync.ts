import type { Log } from '../log.js'
import { createWorkerLoop } from '../workers/loop.js'
import type { VideoAccess } from '../connections/video-services.js'
import type { TokenManager } from '../connections/token-manager.js'
import type { FollowUp, FollowUpRepository } from '../db/repositories/follow-ups.js'
import { SYNC_JOB, type Job, type JobRepository } from '../db/repositories/jobs.js'
import type { MeetingRepository } from '../db/repositories/meetings.js'
import type { Transact } from '../db/transaction.js'
import type { UserConnectionRepository } from '../db/repositories/user-connections.js'
import { ProviderError, type ApiClient, type MeetingInput, type MeetingRef, type ProviderAdapter } from '../providers/contract.js'
import { encodeReason, storedReason } from '../providers/reason.js'

export { SYNC_JOB }
/** How long a save (or the return from a provider sign-in) waits for its meeting before showing the page. */
export const INLINE_SYNC_BUDGET_MS = 5_000
const LOCK_MS = 120_000
/** Attempts before a meeting is marked failed: with the backoff below, about two days of trying. */
export const MAX_ATTEMPTS = 14
/** A meeting that waits for its user's (re)connection is looked at again after this long anyway. */
const BLOCKED_RECHECK_MS = 6 * 3600 * 1000
/** The job reason of Google's asynchronous conference creation: looked at again soon, without backoff. */
const CONFERENCE_PENDING = 'conference pending'

/** For providers without sign-in (Jitsi): there is no API, and an adapter that tried to use one is a bug. */
const NO_API: ApiClient = {
  request() {
    return Promise.reject(new ProviderError('fail', 'this provider has no API'))
  },
}

export type SyncOutcome =
  | { kind: 'done' }
  /**
   * `reason` in English, for the job row and the logs; `stored` is what the meeting and its history keep for the
   * pages (a structured reason, see providers/reason.ts).
   */
  | { kind: 'retry'; afterMs: number; reason: string; stored: string }
  /** Waiting for the user: not connected yet, or the connection needs a new sign-in. */
  | { kind: 'blocked'; reason: 'not_connected' | 'needs_reconnect' }

export interface MeetingSyncDeps {
  transact: Transact
  followUps: FollowUpRepository
  meetings: MeetingRepository
  jobs: JobRepository
  connections: UserConnectionRepository
  tokens: TokenManager
  video: VideoAccess
  log: Log
  now?: () => number
  /** Called once a follow-up's meeting link exists or changed (the invitations wait for it). */
  onMeetingChanged?: (followUpId: number) => void
}

/** Exponential backoff from 30 s, capped at an hour, with jitter; a provider's Retry-After wins when longer. */
export function backoffMs(attempts: number, retryAfterMs = 0): number {
  const base = Math.min(30_000 * 2 ** attempts, 3_600_000)
  return Math.max(retryAfterMs, Math.round(base * (0.8 + Math.random() * 0.4)))
}

function meetingInput(f: FollowUp, requestId: string): MeetingInput {
  return {
    title: f.title,
    start: new Date(f.startsAt),
    end: new Date(f.endsAt),
    timeZone: f.timeZone,
    ...(f.description && { description: f.description }),
    requestId,
  }
}

/**
 * Brings each follow-up's provider meeting in line with the follow-up: create, update in place, or delete.
 * Saving a follow-up never depends on the provider: the change is stored with a job, tried at once, and
 * retried with bounded backoff when the provider is down. The organization's provider is the only one used.
 */
export function createMeetingSync(deps: MeetingSyncDeps) {
  const { transact, followUps, meetings, jobs, connections, tokens, video, log } = deps
  const now = deps.now ?? Date.now

  /** Runs `call` with the user's token; a 401 gets one refresh and one more try. */
  async function withApi<T>(connectionId: number, adapter: ProviderAdapter, call: (api: ApiClient) => Promise<T>): Promise<T> {
    const token = await tokens.accessToken(connectionId)
    try {
      return await call(video.api(adapter.id, token))
    } catch (error) {
      if (!(error instanceof ProviderError) || error.kind !== 'reauth' || error.details.status !== 401) throw error
      const fresh = await tokens.refreshAfterRejection(connectionId, token)
      return await call(video.api(adapter.id, fresh))
    }
  }

  async function reconcile(followUpId: number): Promise<SyncOutcome> {
    const f = followUps.getAny(followUpId)
    const meeting = f?.meeting
    if (!f || !meeting) return { kind: 'done' }
    const wanted = f.video && !f.deleted
    const adapter = video.adapter(meeting.provider)

    if (!wanted) {
      if (meeting.state === 'deleted' || (!meeting.externalId && !meeting.createUnknown)) {
        meetings.markDeleted(f.id, f.version)
        if (f.deleted) followUps.purge(f.id)
        return { kind: 'done' }
      }
      if (!adapter) return { kind: 'done' }
      const connection = adapter.oauth ? connections.findForUser(f.userId, adapter.id) : null
      if (adapter.oauth && !connection) return { kind: 'blocked', reason: 'not_connected' }
      if (meeting.externalId) {
        const ref: MeetingRef = { externalId: meeting.externalId, joinUrl: meeting.joinUrl }
        await (connection ? withApi(connection.id, adapter, (api) => adapter.meetings.delete(api, ref)) : adapter.meetings.delete(NO_API, ref))
      }
      meetings.markDeleted(f.id, f.version)
      meetings.recordEvent(f.id, 'meeting.deleted', adapter.name)
      if (connection) connections.markUsed(connection.id)
      if (f.deleted) followUps.purge(f.id)
      deps.onMeetingChanged?.(f.id)
      return { kind: 'done' }
    }

    const organization = video.organization()
    if (!organization || organization.provider !== meeting.provider || !adapter) {
      // Never silently another provider: the user decides (turn video off and on, or ask the admin).
      meetings.setState(f.id, 'failed', organization ? 'provider_changed' : 'no_provider')
      return { kind: 'done' }
    }
    const connection = adapter.oauth ? connections.findForUser(f.userId, adapter.id) : null
    if (adapter.oauth && !connection) {
      meetings.setState(f.id, 'pending', 'not_connected')
      return { kind: 'blocked', reason: 'not_connected' }
    }
    if (connection?.status === 'needs_reconnect') {
      meetings.setState(f.id, 'needs_reconnect', connection.statusReason)
      return { kind: 'blocked', reason: 'needs_reconnect' }
    }
    const settings = organization.settings
    const input = meetingInput(f, meeting.requestId)
    const run = <T>(call: (api: ApiClient) => Promise<T>) =>
      connection ? withApi(connection.id, adapter, call) : call(NO_API)

    let ref: MeetingRef
    if (!meeting.externalId) {
      // Marked before sending: if the answer is lost, the next attempt knows a meeting may exist already
      // (providers that support it dedupe on the request id).
      const earlier = meeting.createUnknown && adapter.meetings.find ? await run((api) => adapter.meetings.find!(api, input)) : null
      if (earlier) {
        // The last create did reach the provider: keep that meeting (and bring it up to date below).
        meetings.recordEvent(f.id, 'meeting.found', adapter.name)
        ref = await run((api) => adapter.meetings.update(api, earlier, input, settings))
      } else {
        meetings.setCreateUnknown(f.id, true, connection?.id ?? null)
        ref = await run((api) => adapter.meetings.create(api, input, settings))
        meetings.recordEvent(f.id, 'meeting.created', adapter.name)
      }
    } else if (meeting.syncedVersion < f.version) {
      ref = await run((api) => adapter.meetings.update(api, { externalId: meeting.externalId, joinUrl: meeting.joinUrl, passcode: meeting.passcode, dialIn: meeting.dialIn }, input, settings))
      meetings.recordEvent(f.id, 'meeting.updated', adapter.name)
      // The provider took only part of it (Webex keeps a started meeting's start): the user is told what and why.
      if (ref.kept) meetings.recordEvent(f.id, 'meeting.kept', encodeReason(ref.kept))
    } else if (meeting.state === 'pending' && adapter.meetings.refresh) {
      ref = await run((api) => adapter.meetings.refresh!(api, { externalId: meeting.externalId, joinUrl: meeting.joinUrl, pending: true }))
    } else {
      if (meeting.state !== 'ready') meetings.setState(f.id, 'ready')
      return { kind: 'done' }
    }
    transact(() => {
      meetings.saveAnswer(f.id, ref, f.version, connection?.id ?? null)
      // The link goes in Location when the user left it empty (or replaces the link we put there before).
      if (ref.joinUrl) followUps.placeLink(f.id, ref.joinUrl)
    })
    if (connection) connections.markUsed(connection.id)
    if (ref.joinUrl && ref.joinUrl !== meeting.joinUrl) deps.onMeetingChanged?.(f.id)
    else if (meeting.syncedVersion < f.version) deps.onMeetingChanged?.(f.id)
    // Google creates the conference asynchronously: look again shortly.
    return ref.pending ? { kind: 'retry', afterMs: 5_000, reason: CONFERENCE_PENDING, stored: encodeReason({ code: 'conference_pending', provider: adapter.name }) } : { kind: 'done' }
  }

  async function runJob(job: Job): Promise<SyncOutcome> {
    const followUpId = job.followUpId!
    let outcome: SyncOutcome
    try {
      outcome = await reconcile(followUpId)
    } catch (error) {
      outcome = classify(followUpId, error)
    }
    if (outcome.kind === 'done') jobs.complete(job)
    else if (outcome.kind === 'blocked') jobs.retry(job, now() + BLOCKED_RECHECK_MS, outcome.reason)
    else if (job.attempts + 1 >= MAX_ATTEMPTS) {
      // The last reason is the one shown with the failure (the log keeps that it was given up).
      log.warn({ followUpId, attempts: job.attempts + 1, reason: outcome.reason }, 'meeting sync gave up')
      meetings.setState(followUpId, 'failed', outcome.stored)
      meetings.recordEvent(followUpId, 'meeting.failed', outcome.stored)
      jobs.complete(job)
    } else {
      jobs.retry(job, now() + Math.max(outcome.afterMs, outcome.reason === CONFERENCE_PENDING ? 0 : backoffMs(job.attempts)), outcome.reason)
      meetings.recordEvent(followUpId, 'meeting.retry', outcome.stored)
    }
    return outcome
  }

  function classify(followUpId: number, error: unknown): SyncOutcome {
    if (!(error instanceof ProviderError)) {
      log.error({ err: error, followUpId }, 'meeting sync failed unexpectedly')
      return { kind: 'retry', afterMs: 60_000, reason: 'internal error', stored: encodeReason({ code: 'internal_error' }) }
    }
    const f = followUps.getAny(followUpId)
    // What the pages show, in the reader's language; the English message stays for the job row and the logs.
    const stored = storedReason(error)
    if (error.kind === 'retry') {
      const m = f?.meeting
      if (m && !m.externalId && f.video && !f.deleted) meetings.setState(followUpId, 'pending', stored)
      // A change (move, video off) that waits for the provider: the meeting keeps its state and link, and says why.
      else if (m?.externalId && (m.state === 'ready' || m.state === 'pending')) meetings.setState(followUpId, m.state, stored)
      return { kind: 'retry', afterMs: error.details.retryAfterMs ?? 0, reason: error.message, stored }
    }
    if (error.kind === 'reauth') {
      const connectionId = f?.meeting?.connectionId ?? (f ? connections.findForUser(f.userId, f.meeting?.provider ?? '')?.id : undefined)
      // Keep the reason the connection already has (e.g. 'unreadable', 'invalid_grant'): it is the precise one.
      if (connectionId && connections.get(connectionId)?.status === 'connected') connections.markNeedsReconnect(connectionId, error.details.code ?? 'rejected')
      meetings.setState(followUpId, 'needs_reconnect', stored)
      meetings.recordEvent(followUpId, 'meeting.needs_reconnect', stored)
      return { kind: 'blocked', reason: 'needs_reconnect' }
    }
    if (error.kind === 'not_found' && f?.meeting?.externalId) {
      // Someone deleted the meeting at the provider: make a new one on the next save rather than lie.
      meetings.setState(followUpId, 'failed', 'meeting_missing')
      return { kind: 'done' }
    }
    meetings.setState(followUpId, 'failed', stored)
    meetings.recordEvent(followUpId, 'meeting.failed', stored)
    return { kind: 'done' }
  }

  async function runDue(limit = 20): Promise<number> {
    const due = jobs.claimDue(now(), limit, LOCK_MS).filter((j) => j.kind === SYNC_JOB)
    for (const job of due) await runJob(job)
    return due.length
  }

  const loop = createWorkerLoop({ name: 'meeting worker', runDue: () => runDue(), log, now })

  return {
    /**
     * Tries a follow-up's sync now, waiting at most `budgetMs`; the job keeps going (and is retried) if the
     * provider is slower than that. Returns whether it finished within the budget.
     */
    async syncNow(followUpId: number, budgetMs: number): Promise<SyncOutcome | 'in_progress'> {
      const job = jobs.claim(SYNC_JOB, followUpId, now(), LOCK_MS)
      if (!job) return 'in_progress'
      const work = runJob(job)
      let timeout: NodeJS.Timeout | undefined
      const late = new Promise<'in_progress'>((resolve) => (timeout = setTimeout(() => resolve('in_progress'), budgetMs)))
      try {
        return await Promise.race([work, late])
      } finally {
        clearTimeout(timeout)
      }
    },
    runDue,
    /** The background worker (see workers/loop.ts): every `intervalMs`, due jobs are run one at a time. */
    start: loop.start,
    /** Stops taking jobs and waits for the one being run. */
    stop: loop.stop,
  }
}

export type MeetingSync = ReturnType<typeof createMeetingSync>
