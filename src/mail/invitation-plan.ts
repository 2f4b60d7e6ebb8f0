import { differs, INVITATION_FIELDS, type Appointment } from '../model/appointment.js'

export interface PlannedAttendee {
  email: string
  /** The organizer wants this attendee invited (the per-attendee tick). */
  invite: boolean
}

export interface InvitationPlanInput {
  /** The follow-up before the change, with its attendees; null for a new follow-up. */
  before: { appointment: Appointment; attendees: PlannedAttendee[] } | null
  /** The follow-up after the change (on delete: as it was). */
  after: { appointment: Appointment; attendees: PlannedAttendee[] }
  deleting: boolean
  /** The organizer chose "send invitations" for this save. Cancellations go out whatever it says. */
  send: boolean
  /** Whether an attendee has, or is being sent, an invitation to this follow-up (so a removal must cancel it). */
  reached(email: string): boolean
}

export interface InvitationPlan {
  /** Who gets a REQUEST (a first invitation or an update). */
  requests: string[]
  /** Who gets a CANCEL. */
  cancels: string[]
  /** Whose invitation, queued and not yet sent, must not go out (nor a cancellation of what they never got). */
  withdrawn: string[]
  /** Everyone the invitation names (its ATTENDEE lines): the attendees to be invited. */
  invitees: string[]
}

const key = (email: string) => email.toLowerCase()

/**
 * Who gets which email after a change, decided from the change alone (no storage, no clock): invitations to the
 * attendees who get them, an update to everyone who already has one when something the invitation shows changed,
 * a cancellation to removed attendees who had one and, on delete, to everyone who had one.
 */
export function planInvitations(input: InvitationPlanInput): InvitationPlan {
  const { before, after, deleting, reached } = input
  const current = new Set(after.attendees.map((a) => key(a.email)))
  const removed = (before?.attendees ?? []).filter((a) => !current.has(key(a.email)) && reached(a.email)).map((a) => a.email)
  const changed = !before || differs(before.appointment, after.appointment, INVITATION_FIELDS)
  const invitees = after.attendees.filter((a) => a.invite).map((a) => a.email)

  let requests: string[] = []
  let cancels = removed
  if (deleting) {
    const seen = new Set(removed.map(key))
    cancels = [...removed, ...after.attendees.filter((a) => reached(a.email) && !seen.has(key(a.email))).map((a) => a.email)]
  } else {
    requests = after.attendees.filter((a) => a.invite && (input.send || reached(a.email))).map((a) => a.email)
    // Nothing the invitation shows changed: only people who do not have it yet get it.
    if (!changed) requests = requests.filter((email) => !reached(email))
  }

  const stillInvited = new Set(deleting ? [] : invitees.map(key))
  const withdrawn = (before?.attendees ?? []).filter((a) => !stillInvited.has(key(a.email)) && !reached(a.email)).map((a) => a.email)
  return { requests, cancels, withdrawn, invitees: deleting ? after.attendees.filter((a) => a.invite).map((a) => a.email) : invitees }
}
