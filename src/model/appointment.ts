/**
 * An appointment's own fields, named once: a follow-up, what the form gives, and what an invitation says all
 * carry them. A leaf module (no imports), so storage, the domain and mail can share it.
 */
export interface Appointment {
  title: string
  /** UTC, ISO 8601. */
  startsAt: string
  endsAt: string
  /** IANA zone the user planned in, e.g. Europe/Amsterdam. */
  timeZone: string
  location: string
  description: string
  video: boolean
}

/** Every field an invitation shows: a change in one of them is worth an updated invitation. */
export const INVITATION_FIELDS = ['title', 'startsAt', 'endsAt', 'timeZone', 'location', 'description', 'video'] as const satisfies readonly (keyof Appointment)[]

/** The fields the provider's meeting carries (not Location): a change in one of them must reach the provider. */
export const MEETING_FIELDS = ['title', 'startsAt', 'endsAt', 'timeZone', 'description', 'video'] as const satisfies readonly (keyof Appointment)[]

/**
 * The changes RFC 5546 (§2.1.4) calls significant, for which SEQUENCE rises: the time, the place, and the meeting
 * itself (video on or off changes where the meeting is). A new title or description is sent with the same
 * SEQUENCE and a newer DTSTAMP.
 */
export const SIGNIFICANT_FIELDS = ['startsAt', 'endsAt', 'location', 'video'] as const satisfies readonly (keyof Appointment)[]

export function differs(a: Appointment, b: Appointment, fields: readonly (keyof Appointment)[]): boolean {
  return fields.some((field) => a[field] !== b[field])
}

export function appointmentOf(a: Appointment): Appointment {
  return { title: a.title, startsAt: a.startsAt, endsAt: a.endsAt, timeZone: a.timeZone, location: a.location, description: a.description, video: a.video }
}
