import { writeCalendar } from './icalendar.js'
import type { Language } from '../i18n/languages.js'
import { translator, type Translate } from '../i18n/index.js'
import type { DialIn } from '../model/meeting.js'
import type { Meeting } from '../db/repositories/meetings.js'
import type { InvitationSnapshot } from '../model/invitation.js'

export type { InvitationSnapshot }

export interface MeetingDetails {
  joinUrl: string
  passcode?: string
  /** Digits for phones and video systems (Zoom, Webex). */
  phonePasscode?: string
  /** An ID to join by, with the passcode (Teams). */
  meetingCode?: string
  dialIn?: DialIn[]
  provider: string
}

/** What invitations and pages say about a meeting: null while it has no link (pending, failed, deleted). */
export function meetingDetailsOf(meeting: Meeting | null | undefined, providerName: (id: string) => string): MeetingDetails | null {
  if (!meeting || meeting.state !== 'ready' || !meeting.joinUrl) return null
  return {
    joinUrl: meeting.joinUrl,
    passcode: meeting.passcode,
    ...(meeting.phonePasscode && { phonePasscode: meeting.phonePasscode }),
    ...(meeting.meetingCode && { meetingCode: meeting.meetingCode }),
    dialIn: meeting.dialIn,
    provider: providerName(meeting.provider),
  }
}

/** The meeting's codes, as label and value, in the order people need them. */
function codesOf(t: Translate, meeting: MeetingDetails): [string, string][] {
  return [
    ...(meeting.meetingCode ? [[t('invitation.meetingCode'), meeting.meetingCode] as [string, string]] : []),
    ...(meeting.passcode ? [[t('invitation.passcode'), meeting.passcode] as [string, string]] : []),
    ...(meeting.phonePasscode ? [[t('invitation.phonePasscode'), meeting.phonePasscode] as [string, string]] : []),
  ]
}


/**
 * "Tuesday, 4 March 2030, 10:00 – 11:00 (Europe/Amsterdam)", in the organizer's language and zone, 24-hour; a
 * meeting that ends on another day names both days ("Saturday, 9 March 2030, 20:00 – Sunday, 10 March 2030, 04:00").
 */
export function friendlyWhen(s: Pick<InvitationSnapshot, 'startsAt' | 'endsAt' | 'timeZone' | 'language'>): string {
  const locale = s.language === 'nl' ? 'nl-NL' : 'en-GB'
  const day = new Intl.DateTimeFormat(locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: s.timeZone })
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: s.timeZone })
  const start = new Date(s.startsAt)
  const end = new Date(s.endsAt)
  const endDay = day.format(end)
  const until = endDay === day.format(start) ? time.format(end) : `${endDay}, ${time.format(end)}`
  return `${day.format(start)}, ${time.format(start)} – ${until} (${s.timeZone})`
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** The iCalendar text: METHOD REQUEST or CANCEL, stable UID, SEQUENCE, times in UTC, the join link in LOCATION/URL/DESCRIPTION. */
/**
 * The iCalendar file: a REQUEST (the invitation), a CANCEL, or a PUBLISH (the organizer's own copy, which calendars
 * import as the organizer's event rather than as an invitation from themselves: no attendees, nothing to answer).
 */
export function buildIcs(s: InvitationSnapshot, kind: 'request' | 'cancel' | 'publish', meeting: MeetingDetails | null, now = new Date()): string {
  const details = [s.description, ...meetingLines(s.language, meeting)].filter(Boolean).join('\n\n')
  return writeCalendar(
    kind === 'cancel' ? 'CANCEL' : kind === 'publish' ? 'PUBLISH' : 'REQUEST',
    {
      uid: s.uid,
      sequence: s.sequence,
      stamp: now,
      start: new Date(s.startsAt),
      end: new Date(s.endsAt),
      summary: s.title,
      ...(details && { description: details }),
      ...((s.location || meeting?.joinUrl) && { location: s.location || meeting?.joinUrl }),
      ...(meeting?.joinUrl && { url: meeting.joinUrl }),
      organizer: s.organizer,
      attendees: s.attendees.map((email) => ({ email })),
      status: kind === 'cancel' ? 'CANCELLED' : 'CONFIRMED',
    },
    s.language,
  )
}

/** "+31 20 123 (PIN 4567)": one dial-in number as invitations say it. */
function dialInLine(t: Translate, d: DialIn): string {
  return `${d.label ? `${d.label} ` : ''}${d.number}${d.pin ? ` (${t('invitation.pin')} ${d.pin})` : ''}`
}

function meetingLines(language: Language, meeting: MeetingDetails | null): string[] {
  if (!meeting?.joinUrl) return []
  const t = translator(language)
  const lines = [`${t('invitation.joinWith', { provider: meeting.provider })}: ${meeting.joinUrl}`]
  for (const [label, value] of codesOf(t, meeting)) lines.push(`${label}: ${value}`)
  for (const d of meeting.dialIn?.slice(0, 5) ?? []) lines.push(`${t('invitation.dialIn')}: ${dialInLine(t, d)}`)
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
  const t = translator(s.language)
  const when = friendlyWhen(s)
  const label = t(kind === 'cancel' ? 'invitation.cancel' : (s.update ?? s.sequence > 0) ? 'invitation.update' : 'invitation.request')
  const subject = `${label}: ${s.title} – ${when}`
  const where = s.location || meeting?.joinUrl || ''
  const intro = t(kind === 'cancel' ? 'invitation.cancelled' : 'invitation.greeting', { organizer: s.organizer.name })
  const meetingText = kind === 'cancel' ? [] : meetingLines(s.language, meeting)
  const text = [
    intro,
    '',
    s.title,
    `${t('invitation.when')}: ${when}`,
    ...(where ? [`${t('invitation.where')}: ${where}`] : []),
    `${t('invitation.organizer')}: ${s.organizer.name} <${s.organizer.email}>`,
    ...(meetingText.length ? ['', ...meetingText] : []),
    ...(s.description ? ['', s.description] : []),
    '',
    t('invitation.calendarHint'),
  ].join('\n')
  const row = (name: string, value: string) => `<tr><th align="left" style="padding:4px 12px 4px 0">${escapeHtml(name)}</th><td style="padding:4px 0">${value}</td></tr>`
  const html = `<!doctype html><html lang="${s.language}"><body style="font-family:system-ui,sans-serif;color:#1c2430">
<p>${escapeHtml(intro)}</p>
<h1 style="font-size:20px">${escapeHtml(s.title)}</h1>
<table>${row(t('invitation.when'), escapeHtml(when))}${where ? row(t('invitation.where'), escapeHtml(where)) : ''}${row(t('invitation.organizer'), `${escapeHtml(s.organizer.name)} &lt;${escapeHtml(s.organizer.email)}&gt;`)}${
    kind !== 'cancel' && meeting ? codesOf(t, meeting).map(([label, value]) => row(label, escapeHtml(value))).join('') : ''
  }${kind !== 'cancel' && meeting?.dialIn?.length ? row(t('invitation.dialIn'), meeting.dialIn.slice(0, 5).map((d) => escapeHtml(dialInLine(t, d))).join('<br>')) : ''}</table>
${kind !== 'cancel' && meeting?.joinUrl ? `<p><a href="${escapeHtml(meeting.joinUrl)}" style="display:inline-block;padding:10px 16px;background:#1f5f8b;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(t('invitation.join'))}</a></p>` : ''}
${s.description ? `<p style="white-space:pre-wrap">${escapeHtml(s.description)}</p>` : ''}
<p style="color:#5a6472">${escapeHtml(t('invitation.calendarHint'))}</p>
</body></html>`
  return { subject, text, html, ics: buildIcs(s, kind, meeting, now) }
}
