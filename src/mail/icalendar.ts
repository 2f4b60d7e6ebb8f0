/**
 * A writer for the one kind of iCalendar object we send (RFC 5545: a VCALENDAR with one VEVENT, for iTIP
 * REQUEST, CANCEL and PUBLISH). Ours rather than a library's: parameter values such as the organizer's name must
 * be encoded per RFC 6868 (a double quote is ^', a caret ^^, a line break ^n), which the generator we used wrote
 * as backslash escapes that RFC 5545 does not have; vobject then rejected the file, python-icalendar dropped the
 * ORGANIZER, and a crafted name could make a parser read another organizer address.
 */

export type CalendarMethod = 'REQUEST' | 'CANCEL' | 'PUBLISH'

export interface CalendarPerson {
  email: string
  name?: string
}

export interface CalendarEvent {
  uid: string
  sequence: number
  stamp: Date
  start: Date
  end: Date
  summary: string
  description?: string
  location?: string
  url?: string
  organizer: CalendarPerson
  attendees: CalendarPerson[]
  status: 'CONFIRMED' | 'CANCELLED'
}

// Control characters have no place in a content line; TAB is the one RFC 5545 allows in values, and we do not need it.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]/g

/** TEXT values (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, line breaks as \n. */
export function textValue(value: string): string {
  return value
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .replace(/\t/g, ' ')
    .replace(/[\\;,]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')
}

/**
 * A parameter value (RFC 5545 §3.2 with RFC 6868): always quoted; inside the quotes a double quote is ^', a caret
 * ^^ and a line break ^n. A backslash cannot be written so that every parser reads it back (RFC 5545 has no
 * escapes in parameters and vobject keeps it, but ical.js and python's icalendar treat \; as an escape), so it
 * becomes a slash ("DOMAIN\user" → "DOMAIN/user").
 */
export function paramValue(value: string): string {
  const encoded = value
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '')
    .replace(/\t/g, ' ')
    .replace(/\\/g, '/')
    .replace(/\^/g, '^^')
    .replace(/"/g, "^'")
    .replace(/\n/g, '^n')
  return `"${encoded}"`
}

/** A URI value (URL, mailto:): no escaping exists for these, so anything that could end the line is refused. */
function uriValue(value: string): string {
  if (/[\u0000-\u0020\u007f"]/.test(value)) throw new Error(`not a URI for iCalendar: ${JSON.stringify(value.slice(0, 80))}`)
  return value
}

function utc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

/** Folds a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence. */
export function fold(line: string): string {
  const parts: string[] = []
  let current = ''
  let octets = 0
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8')
    // The first line holds 75 octets; each continuation line starts with a space, so 74 more.
    if (octets + size > (parts.length === 0 ? 75 : 74)) {
      parts.push(current)
      current = ''
      octets = 0
    }
    current += char
    octets += size
  }
  parts.push(current)
  return parts.join('\r\n ')
}

function person(property: 'ORGANIZER' | 'ATTENDEE', p: CalendarPerson, params: string[] = []): string {
  const name = p.name?.trim() ? [`CN=${paramValue(p.name.trim())}`] : []
  return `${[property, ...name, ...params].join(';')}:${uriValue(`mailto:${p.email}`)}`
}

export function writeCalendar(method: CalendarMethod, event: CalendarEvent, language: string): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:-//Video Meetings//Video Meetings//${language.toUpperCase()}`,
    'CALSCALE:GREGORIAN',
    `METHOD:${method}`,
    'BEGIN:VEVENT',
    `UID:${textValue(event.uid)}`,
    `SEQUENCE:${event.sequence}`,
    `DTSTAMP:${utc(event.stamp)}`,
    `DTSTART:${utc(event.start)}`,
    `DTEND:${utc(event.end)}`,
    `SUMMARY:${textValue(event.summary)}`,
    ...(event.location ? [`LOCATION:${textValue(event.location)}`] : []),
    ...(event.description ? [`DESCRIPTION:${textValue(event.description)}`] : []),
    ...(event.url ? [`URL;VALUE=URI:${uriValue(event.url)}`] : []),
    person('ORGANIZER', event.organizer),
    // RFC 5546 §3.2.1: a PUBLISH (an event for one's own calendar) names no attendees.
    ...(method === 'PUBLISH' ? [] : event.attendees.map((a) => person('ATTENDEE', a, ['ROLE=REQ-PARTICIPANT', 'PARTSTAT=NEEDS-ACTION', 'RSVP=TRUE']))),
    `STATUS:${event.status}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ]
  return `${lines.map(fold).join('\r\n')}\r\n`
}
