/** Sandbox meetings as its API takes and gives them: validation of create and PATCH bodies, the JSON shape. */
import { CONTROL_CHARACTERS, isTimeZone } from '../forms.js'
import { randomPasscode } from '../providers/settings-helpers.js'
import { badRequest } from './errors.js'
import { sha256 } from './secrets.js'

const DIAL_IN_NUMBER = '+1 555 0100'

/** A meeting as stored (sandbox_meetings). */
export interface MeetingRow {
  id: string
  account_id: string
  request_id: string | null
  title: string
  start_at: string
  end_at: string
  time_zone: string
  passcode: string
  waiting_room: number
  join_url: string
  deleted_at: number | null
}

export interface MeetingFields {
  title: string
  start: string
  end: string
  timeZone: string
  passcode: string
  waitingRoom: boolean
}

export function columns(fields: MeetingFields) {
  return {
    title: fields.title,
    start_at: fields.start,
    end_at: fields.end,
    time_zone: fields.timeZone,
    passcode: fields.passcode,
    waiting_room: fields.waitingRoom ? 1 : 0,
  }
}

export function fieldsOf(row: MeetingRow): MeetingFields {
  return { title: row.title, start: row.start_at, end: row.end_at, timeZone: row.time_zone, passcode: row.passcode, waitingRoom: row.waiting_room === 1 }
}

/** The dial-in PIN is derived from the meeting id, so it is stable without a column of its own. */
function dialInPin(id: string): string {
  return (BigInt(`0x${sha256(`pin:${id}`).slice(0, 15)}`) % 1_000_000_000n).toString().padStart(9, '0')
}

export function meetingJson(row: MeetingRow) {
  return {
    id: row.id,
    title: row.title,
    start: row.start_at,
    end: row.end_at,
    timeZone: row.time_zone,
    passcode: row.passcode,
    waitingRoom: row.waiting_room === 1,
    joinUrl: row.join_url,
    dialIn: [{ number: DIAL_IN_NUMBER, pin: dialInPin(row.id) }],
  }
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i
const PASSCODE = /^[A-Za-z0-9]{1,10}$/

/** Reads a create (all required but passcode, waitingRoom) or a PATCH (each optional, merged over `base`). */
export function readMeeting(body: unknown, base: MeetingFields | null): MeetingFields {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object')
  const b = body as Record<string, unknown>
  const present = (name: string) => b[name] !== undefined
  const text = (name: string, max: number): string => {
    const value = b[name]
    if (typeof value !== 'string') throw badRequest(`${name} must be a string`)
    const trimmed = value.trim()
    if (!trimmed) throw badRequest(`${name} must not be empty`)
    if (trimmed.length > max) throw badRequest(`${name} must be at most ${max} characters`)
    if (CONTROL_CHARACTERS.test(trimmed)) throw badRequest(`${name} must not contain control characters`)
    return trimmed
  }
  const dateTime = (name: string): string => {
    const value = text(name, 40)
    const ms = Date.parse(value)
    if (!DATE_TIME.test(value) || !Number.isFinite(ms)) throw badRequest(`${name} must be an ISO 8601 date-time with an offset, e.g. 2030-01-31T09:30:00Z`)
    return new Date(ms).toISOString()
  }
  const need = (name: string) => {
    if (!base && !present(name)) throw badRequest(`${name} is required`)
    return present(name)
  }
  const fields: MeetingFields = {
    title: need('title') ? text('title', 200) : base!.title,
    start: need('start') ? dateTime('start') : base!.start,
    end: need('end') ? dateTime('end') : base!.end,
    timeZone: need('timeZone') ? text('timeZone', 64) : base!.timeZone,
    passcode: present('passcode') ? text('passcode', 10) : (base?.passcode ?? randomPasscode(6, { digitsOnly: true })),
    waitingRoom: base?.waitingRoom ?? false,
  }
  if (present('waitingRoom')) {
    if (typeof b.waitingRoom !== 'boolean') throw badRequest('waitingRoom must be true or false')
    fields.waitingRoom = b.waitingRoom
  }
  if (!isTimeZone(fields.timeZone)) throw badRequest('timeZone must be an IANA time zone such as Europe/Amsterdam')
  if (!PASSCODE.test(fields.passcode)) throw badRequest('passcode must be 1 to 10 letters or digits')
  if (Date.parse(fields.end) <= Date.parse(fields.start)) throw badRequest('end must be after start')
  return fields
}

export function readRequestId(body: unknown): string | null {
  const value = (body as Record<string, unknown>).requestId
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || !value || value.length > 200 || CONTROL_CHARACTERS.test(value)) throw badRequest('requestId must be a non-empty string of at most 200 characters')
  return value
}
