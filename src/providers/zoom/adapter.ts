/**
 * Zoom: a user-managed OAuth app (authorization code + PKCE, client authenticated with HTTP Basic) and the
 * v2 meetings API.
 *
 * Checked against Zoom's documentation (search tools, stored public copies):
 *   - Meeting passcode: "may only contain the following characters: [a-z A-Z 0-9 @ - _ *] and can have a
 *     maximum of 10 characters"; an account's minimum-passcode settings (length, letter, number, special
 *     character, upper and lower case, no consecutive characters) also apply — Zoom API reference
 *     (meetingCreate/meetingUpdate `password`, as generated into zoom SDKs) and the account-settings
 *     `meeting_password_requirement` fields. No documented minimum length: we ask for 6 (Zoom's own generated
 *     passcodes have 6) and generate 10 with every character class so stricter accounts accept it too.
 *   - Create: POST /users/me/meetings, 201; start_time in UTC as yyyy-MM-ddTHH:mm:ssZ; topic ≤ 200 characters;
 *     agenda ≤ 2000; settings.auto_recording local | cloud | none. PATCH /meetings/{id} answers 204 without a
 *     body, so the meeting is read again. DELETE answers 204, 404 with code 3001 when it is gone.
 *   - Errors: 401 {code: 124} invalid or expired token; 400 {code: 4711} token lacks a scope (see the fake).
 *   - Granular scopes are set on the app, not in the authorization URL; the token response lists them.
 *   - Finding a meeting whose create answer was lost (`find`): Zoom has no idempotency key, so the agenda's last
 *     line is a marker `[vm:<requestId>]`. List meetings: GET /users/me/meetings?type=scheduled ("all valid
 *     previous (unexpired) meetings, live meetings, and upcoming scheduled meetings"), page_size up to 300,
 *     `next_page_token` ("" on the last page; expires after 15 minutes); items carry id, topic, start_time,
 *     join_url and `agenda`, which "gets truncated to 250 characters when you list all meetings for a user"
 *     (Zoom API reference as generated into zoom SDKs and mirrored API collections). Granular scope
 *     meeting:read:list_meetings (classic: meeting:read).
 */
import { ProviderError, type ApiClient, type MeetingInput, type MeetingRef, type ProviderAdapter, type ProviderSettings } from '../contract.js'
import {
  ANY_REQUEST_MARKER,
  arr,
  bodyOf,
  call,
  deleteIgnoringGone,
  hasRequestMarker,
  obj,
  str,
  truncate,
  utcSeconds,
  withRequestMarker,
} from '../settings-helpers.js'
import { readZoomSettings, zoomPasscode, zoomSettings, type ZoomRecording } from './settings.js'
import { ZOOM_TEXT } from './text.js'

const SCOPES = ['meeting:write:meeting', 'meeting:update:meeting', 'meeting:delete:meeting', 'meeting:read:meeting', 'meeting:read:list_meetings', 'user:read:user']

const AGENDA_MAX = 2000
/** List meetings cuts `agenda` to this many characters; a marker past it is only seen by reading the meeting. */
const LIST_AGENDA_MAX = 250
const LIST_PAGE_SIZE = 300
/** At most this many pages (300 meetings each) are read looking for a lost meeting. */
const LIST_MAX_PAGES = 20
/** Meetings read one by one because their listed agenda was cut before a marker could show. */
const MAX_DETAIL_READS = 10
function refine(error: ProviderError): ProviderError {
  if (error.details.code === '4711') {
    const reason = error.reason && { ...error.reason, hint: 'missing_scope' as const }
    return new ProviderError('reauth', `${error.message}: the token lacks a scope`, { ...error.details, userMessage: ZOOM_TEXT.missingScope }, reason)
  }
  return error
}

interface ZoomMeetingBody {
  topic: string
  type: 2
  start_time: string
  duration: number
  timezone: string
  password: string
  agenda: string
  settings: { waiting_room: boolean; join_before_host: boolean; auto_recording: ZoomRecording; meeting_authentication: false }
}

function meetingBody(input: MeetingInput, stored: ProviderSettings): ZoomMeetingBody {
  const settings = readZoomSettings(stored)
  return {
    topic: truncate(input.title, 200),
    type: 2,
    start_time: utcSeconds(input.start),
    duration: Math.max(1, Math.ceil((input.end.getTime() - input.start.getTime()) / 60_000)),
    timezone: input.timeZone,
    password: settings.passcode || zoomPasscode(),
    // The last line marks the meeting as this request's, so a lost create can be found again (see find).
    agenda: withRequestMarker(input.description ?? '', input.requestId, AGENDA_MAX),
    settings: {
      waiting_room: settings.waitingRoom,
      join_before_host: settings.joinBeforeHost,
      auto_recording: settings.autoRecording,
      // "If true, only authenticated users can join meetings" (Zoom: meeting settings). Accounts that default to
      // it would keep out every external attendee without a Zoom sign-in: the invitation goes to them, so no.
      meeting_authentication: false,
    },
  }
}

/** The app keeps the meeting id, join link, passcode and dial-in numbers; never the host's start_url. */
function toRef(meeting: Record<string, unknown>, fallback?: MeetingRef): MeetingRef {
  const id = str(meeting.id) ?? fallback?.externalId
  const joinUrl = str(meeting.join_url) ?? fallback?.joinUrl
  if (!id || !joinUrl) throw new ProviderError('retry', 'Zoom answered without a meeting id or join_url', {}, { code: 'incomplete_answer', provider: 'Zoom' })
  const dialIn = arr(obj(meeting.settings).global_dial_in_numbers)
    .map(obj)
    .filter((n) => str(n.number))
    .map((n) => {
      const place = str(n.country_name) ?? str(n.country)
      const city = str(n.city)
      const label = place && city ? `${place} (${city})` : (place ?? city)
      return { number: str(n.number) as string, ...(label && { label }), pin: id }
    })
  const passcode = str(meeting.password)
  // Callers type the numeric pstn_password, not the alphanumeric passcode (Zoom: Meeting object).
  const phonePasscode = str(meeting.pstn_password)
  return { externalId: id, joinUrl, ...(passcode && { passcode }), ...(phonePasscode && phonePasscode !== passcode && { phonePasscode }), ...(dialIn.length > 0 && { dialIn }) }
}

const meetingPath = (ref: MeetingRef) => `meetings/${encodeURIComponent(ref.externalId)}`

/** Reads one meeting; null when it is gone (deleted since it was listed). */
async function readMeeting(api: ApiClient, id: string): Promise<Record<string, unknown> | null> {
  try {
    return bodyOf(await call(() => api.request('GET', `meetings/${encodeURIComponent(id)}`), refine), 'meeting')
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'not_found') return null
    throw error
  }
}

/**
 * The meeting a create with this input's request id made: the user's scheduled meetings are listed page by
 * page and the one whose agenda carries the request marker is read in full. The list cuts agendas at 250
 * characters, so a marker behind a long description does not show there: such meetings (no marker visible,
 * agenda cut) are read one by one, but only when their topic or start time is this input's, to keep the
 * number of reads small.
 */
async function findByMarker(api: ApiClient, input: MeetingInput): Promise<MeetingRef | null> {
  const topic = truncate(input.title, 200)
  const start = Date.parse(utcSeconds(input.start))
  const unsure: string[] = []
  let pageToken = ''
  for (let page = 0; page < LIST_MAX_PAGES; page++) {
    const query: Record<string, string> = { type: 'scheduled', page_size: String(LIST_PAGE_SIZE), ...(pageToken && { next_page_token: pageToken }) }
    const list = bodyOf(await call(() => api.request('GET', 'users/me/meetings', undefined, query), refine), 'meeting list')
    for (const item of arr(list.meetings).map(obj)) {
      const id = str(item.id)
      if (!id) continue
      const agenda = typeof item.agenda === 'string' ? item.agenda : ''
      if (hasRequestMarker(agenda, input.requestId)) {
        const meeting = await readMeeting(api, id)
        if (meeting && hasRequestMarker(meeting.agenda, input.requestId)) return toRef(meeting)
        continue
      }
      // Another request's meeting, or an agenda shown whole without our marker: not ours.
      if (ANY_REQUEST_MARKER.test(agenda) || agenda.length < LIST_AGENDA_MAX - 10) continue
      if (str(item.topic) === topic || Date.parse(String(item.start_time)) === start) unsure.push(id)
    }
    pageToken = str(list.next_page_token) ?? ''
    if (!pageToken) break
  }
  for (const id of unsure.slice(0, MAX_DETAIL_READS)) {
    const meeting = await readMeeting(api, id)
    if (meeting && hasRequestMarker(meeting.agenda, input.requestId)) return toRef(meeting)
  }
  return null
}

export const zoomProvider: ProviderAdapter & { id: 'zoom' } = {
  id: 'zoom',
  name: 'Zoom',
  oauth: {
    // Zoom ignores the scope parameter and grants the app's scopes; sending them documents what we expect.
    scopes: SCOPES,
    requiredScopes: SCOPES,
    clientAuth: 'header',
    consoleUrl: 'https://marketplace.zoom.us/develop/create',
    registrationHelp: ZOOM_TEXT.registrationHelp,
  },

  async identity(api, endpoints) {
    const me = bodyOf(await call(() => api.request('GET', endpoints.userinfoUrl), refine), 'user')
    const id = str(me.id)
    if (!id) throw new ProviderError('retry', 'Zoom answered /users/me without an id', {}, { code: 'incomplete_answer', provider: 'Zoom' })
    const email = str(me.email)
    const fullName = [str(me.first_name), str(me.last_name)].filter(Boolean).join(' ')
    const name = fullName || str(me.display_name) || email || id
    return { accountId: id, name, ...(email && { email }) }
  },

  settings: zoomSettings,

  meetings: {
    async create(api: ApiClient, input, settings) {
      const res = await call(() => api.request('POST', 'users/me/meetings', meetingBody(input, settings)), refine)
      return toRef(bodyOf(res, 'meeting'))
    },

    async update(api, ref, input, settings) {
      await call(() => api.request('PATCH', meetingPath(ref), meetingBody(input, settings)), refine)
      // PATCH answers 204 without a body: read the meeting for its current link and numbers.
      const res = await call(() => api.request('GET', meetingPath(ref)), refine)
      return toRef(bodyOf(res, 'meeting'), ref)
    },

    async delete(api, ref) {
      await deleteIgnoringGone(api, meetingPath(ref), undefined, refine)
    },

    find: findByMarker,
  },
}
