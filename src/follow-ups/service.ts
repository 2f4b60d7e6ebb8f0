import crypto from 'node:crypto'
import type { Transact } from '../db/transaction.js'
import type { FollowUp, FollowUpInput, FollowUpRepository } from '../db/repositories/follow-ups.js'
import type { MeetingRepository } from '../db/repositories/meetings.js'
import type { JobRepository } from '../db/repositories/jobs.js'
import type { OutboxRepository } from '../db/repositories/outbox.js'
import type { EffectiveMailSettings } from '../db/repositories/mail-settings.js'
import type { InvitationSnapshot } from '../mail/invitation.js'
import { planInvitations } from '../mail/invitation-plan.js'
import type { Language } from '../i18n/languages.js'
import { appointmentOf, differs, MEETING_FIELDS, type Appointment } from './appointment.js'

/** The user who saves: the organizer of the invitations. */
export interface Organizer {
  id: number
  name: string
  email: string
  language: Language
}

/** Whether and how a change is mailed to the attendees. */
export interface MailIntent {
  /** Send invitations (new attendees, and everyone after a change). Cancellations always go out. */
  send: boolean
  organizer: { name: string; email: string }
  language: Language
}

/** The organization's provider, as a save needs it: its id and whether its users sign in to it. */
export interface ProviderForSave {
  id: string
  signIn: boolean
}

export interface FollowUpServiceDeps {
  transact: Transact
  followUps: FollowUpRepository
  meetings: MeetingRepository
  jobs: JobRepository
  outbox: OutboxRepository
  /** The email settings in effect for a user (their own or the installation's), null when none. */
  mailSettings(userId: number): EffectiveMailSettings | null
  organizationProvider(): ProviderForSave | null
  /** The user has a usable connection to the provider (not missing, not waiting for a reconnection). */
  isConnected(userId: number, provider: string): boolean
  /** Tries the follow-up's meeting at the provider now, within a budget (src/meetings/sync.ts). */
  syncNow(followUpId: number): Promise<unknown>
  now?: () => number
  newId?: () => string
}

/** After a save: show the follow-up, or first send the user to sign in at the provider (the follow-up is saved). */
export type SaveOutcome = { id: number; next: 'show' | 'provider_sign_in' }

/**
 * Follow-ups as the user saves them. A save is one transaction: the follow-up and its attendees, the meeting
 * scheduled at the organization's provider (with its sync job), and the invitations the change causes (queued in
 * the outbox). The provider is tried after the transaction, within a short budget; a save never depends on it.
 */
export function createFollowUpService(deps: FollowUpServiceDeps) {
  const { transact, followUps, meetings, jobs, outbox } = deps
  const now = deps.now ?? Date.now
  const newId = deps.newId ?? (() => crypto.randomUUID())

  function mailIntent(user: Organizer, send: boolean): MailIntent | null {
    const settings = deps.mailSettings(user.id)
    if (!settings) return null
    return { send, organizer: { name: user.name, email: settings.source === 'user' ? settings.fromAddress : user.email }, language: user.language }
  }

  /** What an invitation of this user's says (also the preview and the .ics download). */
  function invitationSnapshot(user: Organizer, appointment: Appointment, attendees: string[], uid: string, sequence: number): InvitationSnapshot {
    const organizer = mailIntent(user, true)?.organizer ?? { name: user.name, email: user.email }
    return { uid, sequence, ...appointmentOf(appointment), organizer, attendees, language: user.language }
  }

  /** Queues the emails a change causes, inside its transaction (see mail/invitation-plan.ts for who gets what). */
  function queueInvitations(id: number, userId: number, mail: MailIntent, before: FollowUp | null, deleting: boolean): void {
    const after = followUps.getAny(id)!
    const invitedBefore = new Set((before?.attendeeDetails ?? []).filter((a) => a.invited).map((a) => a.email.toLowerCase()))
    const plan = planInvitations({
      before: before && { appointment: before, attendees: before.attendeeDetails },
      after: { appointment: after, attendees: after.attendeeDetails },
      deleting,
      send: mail.send,
      reached: (email) => invitedBefore.has(email.toLowerCase()) || outbox.reached(id, email),
    })
    for (const email of plan.withdrawn) outbox.withdraw(id, email)
    if (plan.requests.length === 0 && plan.cancels.length === 0) return
    const uid = after.icalUid ?? `${newId()}@video-meetings`
    const sequence = outbox.everQueued(id) ? after.icalSequence + 1 : 0
    followUps.setIcal(id, uid, sequence)
    const snapshot = (attendees: string[]): InvitationSnapshot => ({
      uid,
      sequence,
      ...appointmentOf(after),
      video: after.video && !deleting,
      organizer: mail.organizer,
      attendees,
      language: mail.language,
    })
    const meeting = after.meeting
    const waiting = after.video && !deleting && (!meeting || meeting.state !== 'ready' || !meeting.joinUrl)
    for (const recipient of plan.requests) outbox.queue({ followUpId: id, userId, recipient, kind: 'request', snapshot: snapshot(plan.invitees), waiting })
    for (const recipient of plan.cancels) outbox.queue({ followUpId: id, userId, recipient, kind: 'cancel', snapshot: snapshot(deleting ? plan.invitees : [recipient]), waiting: false })
  }

  /** The meeting is tried at once; a user who must sign in at the provider first is sent there. */
  async function afterSave(user: Organizer, id: number, provider: ProviderForSave | null): Promise<SaveOutcome> {
    const saved = followUps.getForUser(id, user.id)!
    if (saved.meeting) await deps.syncNow(id)
    const mustSignIn = saved.video && provider !== null && provider.signIn && !deps.isConnected(user.id, provider.id)
    return { id, next: mustSignIn ? 'provider_sign_in' : 'show' }
  }

  return {
    mailIntent,
    invitationSnapshot,

    /** Creates the follow-up; with video on, its meeting starts as pending and a sync job is queued. */
    async create(user: Organizer, input: FollowUpInput, options: { sendInvitations: boolean }): Promise<SaveOutcome> {
      const provider = deps.organizationProvider()
      const mail = mailIntent(user, options.sendInvitations)
      const id = transact(() => {
        const id = followUps.insert(user.id, input)
        followUps.setAttendees(id, input.attendees, input.uninvited)
        if (input.video && provider) {
          meetings.schedule(id, provider.id, newId())
          jobs.enqueueSync(id, now())
          meetings.recordEvent(id, 'created')
        }
        if (mail) queueInvitations(id, user.id, mail, null, false)
        return id
      })
      return afterSave(user, id, provider)
    },

    /** Saves the changes; null when the follow-up is not this user's (or gone). */
    async update(user: Organizer, id: number, input: FollowUpInput, options: { sendInvitations: boolean }): Promise<SaveOutcome | null> {
      const provider = deps.organizationProvider()
      const mail = mailIntent(user, options.sendInvitations)
      const saved = transact(() => {
        const before = followUps.getForUser(id, user.id)
        if (!before) return false
        const meeting = before.meeting
        const providerCares = differs(before, input, MEETING_FIELDS)
        followUps.update(id, user.id, input, providerCares)
        followUps.setAttendees(id, input.attendees, input.uninvited)
        if (input.video && provider && (!meeting || meeting.state === 'deleted' || meeting.state === 'failed')) meetings.schedule(id, provider.id, newId())
        const needsSync = providerCares && (input.video || (meeting && meeting.state !== 'deleted'))
        if (needsSync || (input.video && (!meeting || meeting.state !== 'ready'))) jobs.enqueueSync(id, now())
        if (providerCares) meetings.recordEvent(id, 'changed')
        if (mail) queueInvitations(id, user.id, mail, before, false)
        return true
      })
      return saved ? afterSave(user, id, provider) : null
    },

    /**
     * Deletes the follow-up: everyone who got the invitation gets the cancellation. The row stays until its
     * provider meeting is gone (the meeting worker purges it then).
     */
    async delete(user: Organizer, id: number): Promise<boolean> {
      const mail = mailIntent(user, false)
      const outcome = transact(() => {
        const before = followUps.getForUser(id, user.id)
        if (!before || !followUps.softDelete(id, user.id)) return null
        if (mail) queueInvitations(id, user.id, mail, before, true)
        const meeting = before.meeting
        if (meeting && meeting.state !== 'deleted' && meeting.externalId) {
          jobs.enqueueSync(id, now())
          meetings.recordEvent(id, 'deleted')
          return 'meeting_to_remove'
        }
        followUps.purge(id)
        return 'gone'
      })
      if (outcome === 'meeting_to_remove') await deps.syncNow(id)
      return outcome !== null
    },

    /** The user pressed Retry on a meeting that waits: try it again now. */
    async retryMeeting(user: Organizer, id: number): Promise<void> {
      if (!followUps.getForUser(id, user.id)?.meeting) return
      jobs.enqueueSync(id, now())
      await deps.syncNow(id)
    },
  }
}

export type FollowUpService = ReturnType<typeof createFollowUpService>
