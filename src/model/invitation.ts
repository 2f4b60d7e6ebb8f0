/** What an invitation says: a leaf module, so the outbox (storage) can keep it without importing the mail code. */
import type { Appointment } from './appointment.js'
import type { Language } from '../i18n/languages.js'

/** What an invitation says, frozen when the change was saved. */
export interface InvitationSnapshot extends Appointment {
  uid: string
  sequence: number
  organizer: { name: string; email: string }
  /** Everyone on the invitation (ATTENDEE lines), not only this recipient. */
  attendees: string[]
  language: Language
  /** This recipient had an invitation to this follow-up before: the mail says "Updated invitation". */
  update?: boolean
}
