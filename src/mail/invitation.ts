import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator'
import type { Language } from '../i18n/languages.js'
import type { DialIn } from '../meetings/types.js'
import type { Appointment } from '../follow-ups/appointment.js'

/** What an invitation says, frozen when the change was saved. */
export interface InvitationSnapshot extends Appointment {
  uid: string
  sequence: number
  organizer: { name: string; email: string }
  /** Everyone on the invitation (ATTENDEE lines), not only this recipient. */
  attendees: string[]
  language: Language
}

export interface MeetingDetails {
  joinUrl: string
  passcode?: string
  dialIn?: DialIn[]
  provider: string
}

const TEXT = {
  en: {
    request: 'Invitation',
    update: 'Updated invitation',
    cancel: 'Cancelled',
    greeting: (organizer: string) => `${organizer} invites you to a meeting.`,
    cancelled: (organizer: string) => `${organizer} has cancelled this meeting.`,
    when: 'When',
    where: 'Where',
    join: 'Join meeting',
    joinWith: (provider: string) => `Join the ${provider} meeting`,
    passcode: 'Passcode',
    dialIn: 'Dial-in',
    pin: 'PIN',
    organizer: 'Organizer',
    calendarHint: 'The attached invitation (.ics) adds this meeting to your calendar.',
  },
  nl: {
    request: 'Uitnodiging',
    update: 'Bijgewerkte uitnodiging',
    cancel: 'Geannuleerd',
    greeting: (organizer: string) => `${organizer} nodigt u uit voor een vergadering.`,
    cancelled: (organizer: string) => `${organizer} heeft deze vergadering geannuleerd.`,
    when: 'Wanneer',
    where: 'Waar',
    join: 'Deelnemen aan vergadering',
    joinWith: (provider: string) => `Deelnemen aan de ${provider}-vergadering`,
    passcode: 'Toegangscode',
    dialIn: 'Inbellen',
    pin: 'Pincode',
    organizer: 'Organisator',
    calendarHint: 'Met de bijgevoegde uitnodiging (.ics) zet u deze vergadering in uw agenda.',
  },
} as const

/** "Tuesday 4 March 2030, 10:00 – 11:00 (Europe/Amsterdam)", in the organizer's language and zone. */
export function friendlyWhen(s: Pick<InvitationSnapshot, 'startsAt' | 'endsAt' | 'timeZone' | 'language'>): string {
  const locale = s.language === 'nl' ? 'nl-NL' : 'en-GB'
  const day = new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: s.timeZone }).format(new Date(s.startsAt))
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone: s.timeZone })
  return `${day}, ${time.format(new Date(s.startsAt))} – ${time.format(new Date(s.endsAt))} (${s.timeZone})`
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** The iCalendar text: METHOD REQUEST or CANCEL, stable UID, SEQUENCE, times in UTC, the join link in LOCATION/URL/DESCRIPTION. */
export function buildIcs(s: InvitationSnapshot, kind: 'request' | 'cancel', meeting: MeetingDetails | null, now = new Date()): string {
  const calendar = ical({
    prodId: { company: 'Video Meetings', product: 'Video Meetings', language: s.language.toUpperCase() },
    method: kind === 'cancel' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  })
  const details = [s.description, ...meetingLines(s.language, meeting)].filter(Boolean).join('\n\n')
  calendar.createEvent({
    id: s.uid,
    sequence: s.sequence,
    stamp: now,
    start: new Date(s.startsAt),
    end: new Date(s.endsAt),
    summary: s.title,
    description: details || null,
    location: s.location || meeting?.joinUrl || null,
    url: meeting?.joinUrl || null,
    organizer: { name: s.organizer.name, email: s.organizer.email },
    attendees: s.attendees.map((email) => ({ email, rsvp: true, role: ICalAttendeeRole.REQ, status: ICalAttendeeStatus.NEEDSACTION })),
    status: kind === 'cancel' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  })
  return calendar.toString()
}

function meetingLines(language: Language, meeting: MeetingDetails | null): string[] {
  if (!meeting?.joinUrl) return []
  const t = TEXT[language]
  const lines = [`${t.joinWith(meeting.provider)}: ${meeting.joinUrl}`]
  if (meeting.passcode) lines.push(`${t.passcode}: ${meeting.passcode}`)
  for (const d of meeting.dialIn?.slice(0, 5) ?? []) lines.push(`${t.dialIn}: ${d.label ? `${d.label} ` : ''}${d.number}${d.pin ? ` (${t.pin} ${d.pin})` : ''}`)
  return lines
}

export interface InvitationMessage {
  subject: string
  text: string
  html: string
  ics: string
}

/** Subject, plain text and HTML in the organizer's language, plus the .ics. */
export function buildInvitation(s: InvitationSnapshot, kind: 'request' | 'cancel', meeting: MeetingDetails | null, now = new Date()): InvitationMessage {
  const t = TEXT[s.language]
  const when = friendlyWhen(s)
  const label = kind === 'cancel' ? t.cancel : s.sequence > 0 ? t.update : t.request
  const subject = `${label}: ${s.title} – ${when}`
  const where = s.location || meeting?.joinUrl || ''
  const intro = kind === 'cancel' ? t.cancelled(s.organizer.name) : t.greeting(s.organizer.name)
  const meetingText = kind === 'cancel' ? [] : meetingLines(s.language, meeting)
  const text = [
    intro,
    '',
    s.title,
    `${t.when}: ${when}`,
    ...(where ? [`${t.where}: ${where}`] : []),
    `${t.organizer}: ${s.organizer.name} <${s.organizer.email}>`,
    ...(meetingText.length ? ['', ...meetingText] : []),
    ...(s.description ? ['', s.description] : []),
    '',
    t.calendarHint,
  ].join('\n')
  const row = (name: string, value: string) => `<tr><th align="left" style="padding:4px 12px 4px 0">${escapeHtml(name)}</th><td style="padding:4px 0">${value}</td></tr>`
  const html = `<!doctype html><html lang="${s.language}"><body style="font-family:system-ui,sans-serif;color:#1c2430">
<p>${escapeHtml(intro)}</p>
<h1 style="font-size:20px">${escapeHtml(s.title)}</h1>
<table>${row(t.when, escapeHtml(when))}${where ? row(t.where, escapeHtml(where)) : ''}${row(t.organizer, `${escapeHtml(s.organizer.name)} &lt;${escapeHtml(s.organizer.email)}&gt;`)}${
    kind !== 'cancel' && meeting?.passcode ? row(t.passcode, escapeHtml(meeting.passcode)) : ''
  }${kind !== 'cancel' && meeting?.dialIn?.length ? row(t.dialIn, meeting.dialIn.slice(0, 5).map((d) => escapeHtml(`${d.label ? `${d.label} ` : ''}${d.number}${d.pin ? ` (${t.pin} ${d.pin})` : ''}`)).join('<br>')) : ''}</table>
${kind !== 'cancel' && meeting?.joinUrl ? `<p><a href="${escapeHtml(meeting.joinUrl)}" style="display:inline-block;padding:10px 16px;background:#1f5f8b;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(t.join)}</a></p>` : ''}
${s.description ? `<p style="white-space:pre-wrap">${escapeHtml(s.description)}</p>` : ''}
<p style="color:#5a6472">${escapeHtml(t.calendarHint)}</p>
</body></html>`
  return { subject, text, html, ics: buildIcs(s, kind, meeting, now) }
}
