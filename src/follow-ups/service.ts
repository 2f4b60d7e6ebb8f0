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
import { appointmentOf, differs, MEETING_FIELDS, SIGNIFICANT_FIELDS, type Appointment } from '../model/appointment.js'

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
  /** The installation's host name (from BASE_URL): UIDs and Message-IDs end in it. */
  host: string
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

  /**
   * What an invitation of this user's says (also the preview and the .ics download): the follow-up's UID and
   * SEQUENCE, and the organizer it was first sent with, so a file and a mail about one follow-up never disagree.
   */
  function invitationSnapshot(user: Organizer, appointment: Appointment, attendees: string[], identity: { uid: string; sequence: number; organizer?: { name: string; email: string } | null }): InvitationSnapshot {
    const organizer = identity.organizer ?? mailIntent(user, true)?.organizer ?? { name: user.name, email: user.email }
    return { uid: identity.uid, sequence: identity.sequence, ...appointmentOf(appointment), organizer, attendees, language: user.language }
  }

  /** Queues the emails a change causes, inside its transaction (see mail/invitation-plan.ts for who gets what). */
  function queueInvitations(id: number, userId: number, mail: MailIntent, before: FollowUp | null, deleting: boolean): void {
    const after = followUps.getAny(id)!
    const invitedBefore = new Set((before?.attendeeDetails ?? []).filter((a) => a.invited).map((a) => a.email.toLowerCase()))
    const reached = (email: string) => invitedBefore.has(email.toLowerCase()) || outbox.reached(id, email)
    const plan = planInvitations({
      before: before && { appointment: before, attendees: before.attendeeDetails },
      after: { appointment: after, attendees: after.attendeeDetails },
      deleting,
      send: mail.send,
      reached,
    })
    for (const email of plan.withdrawn) outbox.withdraw(id, email)
    if (plan.requests.length === 0 && plan.cancels.length === 0) return
    // The organizer of the first invitation stays the organizer of this UID (a changed sender address does not
    // change it: servers refuse an update whose ORGANIZER changed).
    const organizer = after.icalOrganizer ?? mail.organizer
    followUps.keepOrganizer(id, organizer)
    const snapshot = (attendees: string[], update: boolean): InvitationSnapshot => ({
      uid: after.icalUid,
      sequence: after.icalSequence,
      ...appointmentOf(after),
      video: after.video && !deleting,
      organizer,
      attendees,
      language: mail.language,
      update,
    })
    const meeting = after.meeting
    const waiting = after.video && !deleting && (!meeting || meeting.state !== 'ready' || !meeting.joinUrl)
    const queue = (recipient: string, kind: 'request' | 'cancel', attendees: string[], update: boolean, waits: boolean) =>
      outbox.queue({ followUpId: id, userId, recipient, kind, snapshot: snapshot(attendees, update), waiting: waits, messageId: `<${newId()}@${deps.host}>` })
    // A first invitation says so, also to an attendee added later; an update goes to those who had one.
    for (const recipient of plan.requests) queue(recipient, 'request', plan.invitees, reached(recipient), waiting)
    for (const recipient of plan.cancels) queue(recipient, 'cancel', deleting ? plan.invitees : [recipient], true, false)
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
        const id = followUps.insert(user.id, input, `${newId()}@${deps.host}`)
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
        // The join link we put in Location is ours: cleared with video off (it would point at a deleted meeting),
        // replaced when the meeting is made again. What the user typed there is theirs and never touched.
        const linkKept = before.locationIsLink && input.location === before.location
        const saving = { ...input, location: linkKept && !input.video ? '' : input.location }
        const removed = before.attendees.some((email) => !input.attendees.some((a) => a.toLowerCase() === email.toLowerCase()))
        const significant = differs(before, saving, SIGNIFICANT_FIELDS) || removed
        followUps.update(id, user.id, saving, { provider: providerCares, significant, locationIsLink: linkKept && input.video })
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
        followUps.bumpSequence(id)
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
