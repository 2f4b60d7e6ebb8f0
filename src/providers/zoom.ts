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
import { ProviderError, type ApiClient, type MeetingInput, type MeetingRef, type ProviderAdapter, type ProviderSettings, type Text } from './contract.js'
import {
  ANY_REQUEST_MARKER,
  arr,
  bodyOf,
  call,
  checkbox,
  deleteIgnoringGone,
  hasRequestMarker,
  obj,
  randomPasscode,
  select,
  settingBoolean,
  settingString,
  str,
  text,
  truncate,
  utcSeconds,
  withRequestMarker,
  type Form,
} from './settings-helpers.js'

const SCOPES = ['meeting:write:meeting', 'meeting:update:meeting', 'meeting:delete:meeting', 'meeting:read:meeting', 'meeting:read:list_meetings', 'user:read:user']

export const ZOOM_RECORDING = ['none', 'local', 'cloud'] as const
type Recording = (typeof ZOOM_RECORDING)[number]

const PASSCODE = /^[A-Za-z0-9@\-_*]+$/
const AGENDA_MAX = 2000
/** List meetings cuts `agenda` to this many characters; a marker past it is only seen by reading the meeting. */
const LIST_AGENDA_MAX = 250
const LIST_PAGE_SIZE = 300
/** At most this many pages (300 meetings each) are read looking for a lost meeting. */
const LIST_MAX_PAGES = 20
/** Meetings read one by one because their listed agenda was cut before a marker could show. */
const MAX_DETAIL_READS = 10
export const ZOOM_PASSCODE_MIN = 6
export const ZOOM_PASSCODE_MAX = 10
const PASSCODE_SPECIAL = '@-_*'

const MSG = {
  passcodeLength: { en: `Use ${ZOOM_PASSCODE_MIN} to ${ZOOM_PASSCODE_MAX} characters.`, nl: `Gebruik ${ZOOM_PASSCODE_MIN} tot ${ZOOM_PASSCODE_MAX} tekens.` },
  passcodeChars: {
    en: 'Use only letters, digits and @ - _ * (no spaces).',
    nl: 'Gebruik alleen letters, cijfers en @ - _ * (geen spaties).',
  },
  missingScope: {
    en: 'The Zoom app misses a scope this needs. Add meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings and user:read:user to the app in the Zoom App Marketplace, then connect again.',
    nl: 'De Zoom-app mist een benodigde scope. Voeg meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings en user:read:user toe aan de app in de Zoom App Marketplace en maak daarna opnieuw verbinding.',
  },
} satisfies Record<string, Text>

export function zoomPasscode(): string {
  return randomPasscode(ZOOM_PASSCODE_MAX, { special: PASSCODE_SPECIAL })
}

function refine(error: ProviderError): ProviderError {
  if (error.details.code === '4711') {
    const reason = error.reason && { ...error.reason, hint: 'missing_scope' as const }
    return new ProviderError('reauth', `${error.message}: the token lacks a scope`, { ...error.details, userMessage: MSG.missingScope }, reason)
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
  settings: { waiting_room: boolean; join_before_host: boolean; auto_recording: Recording }
}

function meetingBody(input: MeetingInput, settings: ProviderSettings): ZoomMeetingBody {
  const recording = settingString(settings, 'autoRecording', 'none')
  return {
    topic: truncate(input.title, 200),
    type: 2,
    start_time: utcSeconds(input.start),
    duration: Math.max(1, Math.ceil((input.end.getTime() - input.start.getTime()) / 60_000)),
    timezone: input.timeZone,
    password: settingString(settings, 'passcode', '') || zoomPasscode(),
    // The last line marks the meeting as this request's, so a lost create can be found again (see find).
    agenda: withRequestMarker(input.description ?? '', input.requestId, AGENDA_MAX),
    settings: {
      waiting_room: settingBoolean(settings, 'waitingRoom', false),
      join_before_host: settingBoolean(settings, 'joinBeforeHost', false),
      auto_recording: (ZOOM_RECORDING as readonly string[]).includes(recording) ? (recording as Recording) : 'none',
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
  return { externalId: id, joinUrl, ...(passcode && { passcode }), ...(dialIn.length > 0 && { dialIn }) }
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

export const zoomProvider: ProviderAdapter = {
  id: 'zoom',
  name: 'Zoom',
  oauth: {
    envPrefix: 'ZOOM',
    // Zoom ignores the scope parameter and grants the app's scopes; sending them documents what we expect.
    scopes: SCOPES,
    requiredScopes: SCOPES,
    clientAuth: 'header',
    consoleUrl: 'https://marketplace.zoom.us/develop/create',
    registrationHelp: {
      en: 'In the Zoom App Marketplace choose Develop → Build App → General App (user-managed). Copy the Client ID and Client Secret, add the redirect URI shown here, and on the Scopes page add meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings and user:read:user (Zoom takes the scopes from the app, not from the sign-in). Until the app is published, only users in your own Zoom account can connect; anyone else gets an error from Zoom.',
      nl: 'Kies in de Zoom App Marketplace Develop → Build App → General App (user-managed). Kopieer de Client ID en het Client Secret, voeg de redirect-URI van deze pagina toe en voeg op de pagina Scopes meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings en user:read:user toe (Zoom neemt de scopes van de app, niet van de aanmelding). Zolang de app niet gepubliceerd is, kunnen alleen gebruikers in uw eigen Zoom-account verbinden; anderen krijgen een foutmelding van Zoom.',
    },
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

  settings: {
    fields: [
      {
        name: 'passcode',
        type: 'text',
        required: true,
        maxLength: ZOOM_PASSCODE_MAX,
        label: { en: 'Meeting passcode', nl: 'Toegangscode voor vergaderingen' },
        hint: {
          en: `${ZOOM_PASSCODE_MIN} to ${ZOOM_PASSCODE_MAX} letters, digits or @ - _ *. Your Zoom account may ask for more (for example a digit and a special character).`,
          nl: `${ZOOM_PASSCODE_MIN} tot ${ZOOM_PASSCODE_MAX} letters, cijfers of @ - _ *. Uw Zoom-account kan meer eisen (bijvoorbeeld een cijfer en een speciaal teken).`,
        },
      },
      { name: 'waitingRoom', type: 'checkbox', label: { en: 'Waiting room', nl: 'Wachtkamer' } },
      { name: 'joinBeforeHost', type: 'checkbox', label: { en: 'Participants may join before the host', nl: 'Deelnemers mogen binnenkomen vóór de organisator' } },
      {
        name: 'autoRecording',
        type: 'select',
        label: { en: 'Record automatically', nl: 'Automatisch opnemen' },
        options: [
          { value: 'none', label: { en: 'No', nl: 'Nee' } },
          { value: 'local', label: { en: 'On the host’s computer', nl: 'Op de computer van de organisator' } },
          { value: 'cloud', label: { en: 'In the Zoom cloud', nl: 'In de Zoom-cloud' } },
        ],
      },
    ],
    defaults: () => ({ passcode: zoomPasscode(), waitingRoom: false, joinBeforeHost: false, autoRecording: 'none' }),
    parse(form: Form, language) {
      const errors: Record<string, string> = {}
      const passcode = text(form, 'passcode', language, errors, true)
      if (!errors.passcode) {
        if (!PASSCODE.test(passcode)) errors.passcode = MSG.passcodeChars[language]
        else if (passcode.length < ZOOM_PASSCODE_MIN || passcode.length > ZOOM_PASSCODE_MAX) errors.passcode = MSG.passcodeLength[language]
      }
      const autoRecording = select(form, 'autoRecording', ZOOM_RECORDING, 'none', language, errors)
      return {
        settings: { passcode, waitingRoom: checkbox(form, 'waitingRoom'), joinBeforeHost: checkbox(form, 'joinBeforeHost'), autoRecording },
        errors,
      }
    },
  },

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
