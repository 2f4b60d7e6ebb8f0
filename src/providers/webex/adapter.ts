/**
 * Webex: an integration (authorization code + PKCE, id and secret in the form body) and the Meetings API.
 *
 * Checked against Webex's documentation (webex-openapi-specs via the search tools; see test/fakes/webex.ts):
 *   - Create a Meeting: title ≤ 128 characters, agenda ≤ 1300, start and end in ISO 8601, not in the past, at
 *     least 10 minutes and at most 24 hours apart; `sendEmail` defaults to true (we send our own invitations).
 *     The answer carries webLink, password and telephony{accessCode, callInNumbers[{label, callInNumber}]}.
 *   - Update: PUT /meetings/{id} replaces the meeting (title, password, start and end required); PATCH exists
 *     too but is specified with application/json-patch+json. We PUT every field we own.
 *   - Password: "Must conform to the site's password complexity settings" — the rules are per site and not
 *     readable with our scopes. Our rule is the strict common ground of Webex's site options (minimum length,
 *     mixed case, a digit; the characters `space \ ' " / & < > = [ ]` refused by Webex Meetings Server's
 *     "do not allow special characters" option): 8 to 32 characters with an upper-case letter, a lower-case
 *     letter and a digit. The random default also has a special character, never first or last.
 *   - Finding a meeting whose create answer was lost (`find`): create and update accept `integrationTags`,
 *     "external keys created by an integration application in its own domain", and List Meetings filters on
 *     one with `integrationTag` (WebexPythonSDK meetings.list/create, n8n Webex node). We tag every meeting with
 *     its request id and also end the agenda with the marker `[vm:<requestId>]`, so a listed meeting is only
 *     taken when it visibly carries one of the two. List Meetings: GET /meetings, meetingType meetingSeries by
 *     default ("a meeting with no recurrence attribute is considered a meeting series with only one
 *     occurrence"; series overlapping from..to are listed), `max` up to 100, answer {items: [...]}, further
 *     pages only through the RFC 5988 Link header (developer.webex.com List Meetings; WebexPythonSDK).
 *     ApiClient hands out no headers, so a full page is not paged but narrowed: the time window is halved
 *     (nearest half first) until a page is no longer full. With the integrationTag filter one page is enough.
 */
import { ProviderError, type ApiClient, type MeetingInput, type MeetingRef, type ProviderAdapter, type ProviderSettings } from '../contract.js'
import { arr, bodyOf, call, deleteIgnoringGone, hasRequestMarker, obj, str, truncate, utcSeconds, withRequestMarker } from '../settings-helpers.js'
import { readWebexSettings, webexPassword, webexSettings } from './settings.js'
import { WEBEX_TEXT } from './text.js'

const SCOPES = ['spark:people_read', 'meeting:schedules_read', 'meeting:schedules_write']
const MIN_DURATION_MS = 10 * 60_000
const AGENDA_MAX = 1300
const DAY_MS = 86_400_000
/** find looks this far either side of the input's start (the lost create may have had other times). */
const FIND_WINDOW_MS = 30 * DAY_MS
/** List Meetings' largest page. */
const LIST_MAX = 100
/** A full page is narrowed at most this many times (2^4 windows of under 4 days at worst). */
const MAX_NARROWING = 4

function refine(error: ProviderError): ProviderError {
  if (error.details.status === 403 && error.kind === 'fail' && !error.details.userMessage) {
    return new ProviderError('fail', error.message, { ...error.details, userMessage: WEBEX_TEXT.forbidden }, error.reason)
  }
  return error
}

function meetingBody(input: MeetingInput, stored: ProviderSettings) {
  const settings = readWebexSettings(stored)
  // Webex refuses meetings shorter than 10 minutes; the follow-up's own times stay as they are.
  const end = new Date(Math.max(input.end.getTime(), input.start.getTime() + MIN_DURATION_MS))
  return {
    title: truncate(input.title, 128),
    // Both mark the meeting as this request's, so a lost create can be found again (see find).
    agenda: withRequestMarker(input.description ?? '', input.requestId, AGENDA_MAX),
    integrationTags: [input.requestId],
    password: settings.password || webexPassword(),
    start: utcSeconds(input.start),
    end: utcSeconds(end),
    timezone: input.timeZone,
    enabledJoinBeforeHost: settings.joinBeforeHost,
    sendEmail: false,
  }
}

function toRef(meeting: Record<string, unknown>, fallback?: MeetingRef): MeetingRef {
  const id = str(meeting.id) ?? fallback?.externalId
  const joinUrl = str(meeting.webLink) ?? fallback?.joinUrl
  if (!id || !joinUrl) throw new ProviderError('retry', 'Webex answered without a meeting id or webLink', {}, { code: 'incomplete_answer', provider: 'Webex' })
  const telephony = obj(meeting.telephony)
  const pin = str(telephony.accessCode) ?? str(meeting.meetingNumber)
  const dialIn = arr(telephony.callInNumbers)
    .map(obj)
    .filter((n) => str(n.callInNumber))
    .map((n) => {
      const label = str(n.label)
      return { number: str(n.callInNumber) as string, ...(label && { label }), ...(pin && { pin }) }
    })
  const passcode = str(meeting.password)
  // "Password for joining the meeting from phones and video systems" (Webex: Meeting object), digits only.
  const phonePasscode = str(meeting.phoneAndVideoSystemPassword)
  return { externalId: id, joinUrl, ...(passcode && { passcode }), ...(phonePasscode && phonePasscode !== passcode && { phonePasscode }), ...(dialIn.length > 0 && { dialIn }) }
}

const meetingPath = (ref: MeetingRef) => `meetings/${encodeURIComponent(ref.externalId)}`

/** A listed meeting is this request's only when it visibly says so: its integration tag or agenda marker. */
function isRequests(meeting: Record<string, unknown>, requestId: string): boolean {
  return arr(meeting.integrationTags).includes(requestId) || hasRequestMarker(meeting.agenda, requestId)
}

/**
 * Lists the meeting series tagged with the request id in [from, to). A full page may hide more (the Link header
 * is out of reach): then the window is halved, the half nearest `near` first.
 */
async function searchWindow(api: ApiClient, requestId: string, from: number, to: number, near: number, narrowed: number): Promise<Record<string, unknown> | null> {
  const query = {
    meetingType: 'meetingSeries',
    integrationTag: requestId,
    from: utcSeconds(new Date(from)),
    to: utcSeconds(new Date(to)),
    max: String(LIST_MAX),
  }
  const items = arr(bodyOf(await call(() => api.request('GET', 'meetings', undefined, query), refine), 'meeting list').items).map(obj)
  const hit = items.find((m) => isRequests(m, requestId))
  if (hit || items.length < LIST_MAX || narrowed >= MAX_NARROWING) return hit ?? null
  const mid = Math.floor((from + to) / 2)
  const halves: [number, number][] = near < mid ? [[from, mid], [mid, to]] : [[mid, to], [from, mid]]
  for (const [a, b] of halves) {
    const found = await searchWindow(api, requestId, a, b, near, narrowed + 1)
    if (found) return found
  }
  return null
}

/** Webex's longest meeting (Create a Meeting: `end` at most 23 hours 59 minutes after `start`). */
export const WEBEX_MAX_DURATION_MS = (23 * 60 + 59) * 60_000

/** Refused before the call, in words the user can act on, instead of Webex's 400 after it. */
function withinWebexLimit(input: MeetingInput): void {
  if (input.end.getTime() - input.start.getTime() > WEBEX_MAX_DURATION_MS) throw new ProviderError('fail', { code: 'too_long', provider: 'Webex' })
}

export const webexProvider: ProviderAdapter & { id: 'webex' } = {
  id: 'webex',
  name: 'Webex',
  oauth: {
    scopes: SCOPES,
    // Webex's token response has no `scope`; a missing scope shows up as 403 on the API.
    requiredScopes: SCOPES,
    clientAuth: 'body',
    consoleUrl: 'https://developer.webex.com/my-apps/new/integration',
    registrationHelp: WEBEX_TEXT.registrationHelp,
  },

  async identity(api, endpoints) {
    const me = bodyOf(await call(() => api.request('GET', endpoints.userinfoUrl), refine), 'user')
    const id = str(me.id)
    if (!id) throw new ProviderError('retry', 'Webex answered /people/me without an id', {}, { code: 'incomplete_answer', provider: 'Webex' })
    const email = str(arr(me.emails)[0])
    return { accountId: id, name: str(me.displayName) ?? email ?? id, ...(email && { email }) }
  },

  settings: webexSettings,

  meetings: {
    async create(api, input, settings) {
      withinWebexLimit(input)
      const res = await call(() => api.request('POST', 'meetings', meetingBody(input, settings)), refine)
      return toRef(bodyOf(res, 'meeting'))
    },

    /**
     * PATCH with only what changed (Webex: PUT, a full replace, "will be deprecated"), read against the meeting as
     * Webex has it. A meeting that has started keeps its start (Webex refuses a start before now): the rest goes
     * through, and the answer says what was kept.
     */
    async update(api, ref, input, settings) {
      withinWebexLimit(input)
      const current = bodyOf(await call(() => api.request('GET', meetingPath(ref)), refine), 'meeting')
      const wanted = meetingBody(input, settings)
      const patch: Record<string, unknown> = {}
      for (const key of ['title', 'agenda', 'timezone', 'enabledJoinBeforeHost'] as const) if (wanted[key] !== current[key]) patch[key] = wanted[key]
      for (const key of ['start', 'end'] as const) if (Date.parse(wanted[key]) !== Date.parse(String(current[key]))) patch[key] = wanted[key]
      // The stored password only when the admin set one that differs; otherwise the meeting keeps its own.
      const password = readWebexSettings(settings).password
      if (password && password !== current.password) patch.password = password
      if (!arr(current.integrationTags).includes(input.requestId)) patch.integrationTags = wanted.integrationTags
      // "start cannot be before current date and time": a started meeting keeps its start; one not started yet
      // that is moved into the past starts at the next whole minute instead (and lasts at least Webex's 10).
      let kept: MeetingRef['kept']
      const earliest = Math.ceil(Date.now() / 60_000) * 60_000
      if ('start' in patch && Date.parse(String(current.start)) <= Date.now()) {
        delete patch.start
        kept = { code: 'start_kept', provider: 'Webex' }
      } else if ('start' in patch && Date.parse(String(patch.start)) < earliest) {
        patch.start = utcSeconds(new Date(earliest))
        if (Date.parse(String(patch.end ?? current.end)) < earliest + MIN_DURATION_MS) patch.end = utcSeconds(new Date(earliest + MIN_DURATION_MS))
        kept = { code: 'start_moved_up', provider: 'Webex' }
      }
      if (Object.keys(patch).length === 0) return { ...toRef(current, ref), ...(kept && { kept }) }
      const res = await call(() => api.request('PATCH', meetingPath(ref), { ...patch, sendEmail: false }), refine)
      return { ...toRef(bodyOf(res, 'meeting'), ref), ...(kept && { kept }) }
    },

    async delete(api, ref) {
      await deleteIgnoringGone(api, meetingPath(ref), { sendEmail: 'false' }, refine)
    },

    async find(api, input) {
      const start = input.start.getTime()
      const meeting = await searchWindow(api, input.requestId, start - FIND_WINDOW_MS, start + FIND_WINDOW_MS, start, 0)
      return meeting ? toRef(meeting) : null
    },
  },
}
