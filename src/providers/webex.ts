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
import type { Language } from '../i18n/languages.js'
import { ProviderError, type ApiClient, type MeetingInput, type MeetingRef, type ProviderAdapter, type ProviderSettings, type Text } from './contract.js'
import {
  arr,
  bodyOf,
  call,
  checkbox,
  deleteIgnoringGone,
  hasRequestMarker,
  obj,
  randomPasscode,
  settingBoolean,
  settingString,
  str,
  text,
  truncate,
  utcSeconds,
  withRequestMarker,
  type Form,
} from './settings-helpers.js'

const SCOPES = ['spark:people_read', 'meeting:schedules_read', 'meeting:schedules_write']
export const WEBEX_PASSWORD_MIN = 8
export const WEBEX_PASSWORD_MAX = 32
const FORBIDDEN = /[\s\\'"/&<>=[\]]/
const MIN_DURATION_MS = 10 * 60_000
const AGENDA_MAX = 1300
const DAY_MS = 86_400_000
/** find looks this far either side of the input's start (the lost create may have had other times). */
const FIND_WINDOW_MS = 30 * DAY_MS
/** List Meetings' largest page. */
const LIST_MAX = 100
/** A full page is narrowed at most this many times (2^4 windows of under 4 days at worst). */
const MAX_NARROWING = 4

const MSG = {
  passwordLength: { en: `Use ${WEBEX_PASSWORD_MIN} to ${WEBEX_PASSWORD_MAX} characters.`, nl: `Gebruik ${WEBEX_PASSWORD_MIN} tot ${WEBEX_PASSWORD_MAX} tekens.` },
  passwordClasses: {
    en: 'Use at least one capital letter, one small letter and one digit.',
    nl: 'Gebruik minstens één hoofdletter, één kleine letter en één cijfer.',
  },
  passwordChars: {
    en: 'Leave out spaces and the characters \\ \' " / & < > = [ ].',
    nl: 'Laat spaties en de tekens \\ \' " / & < > = [ ] weg.',
  },
  forbidden: {
    en: 'Webex refused the request: your Webex account may have no Meetings licence, or the integration lacks the meeting:schedules_write scope.',
    nl: 'Webex weigerde het verzoek: uw Webex-account heeft mogelijk geen Meetings-licentie, of de integratie mist de scope meeting:schedules_write.',
  },
} satisfies Record<string, Text>

export function webexPassword(): string {
  return randomPasscode(12, { special: '@#' })
}

function refine(error: ProviderError): ProviderError {
  if (error.details.status === 403 && error.kind === 'fail' && !error.details.userMessage) {
    return new ProviderError('fail', error.message, { ...error.details, userMessage: MSG.forbidden }, error.reason)
  }
  return error
}

function meetingBody(input: MeetingInput, settings: ProviderSettings) {
  // Webex refuses meetings shorter than 10 minutes; the follow-up's own times stay as they are.
  const end = new Date(Math.max(input.end.getTime(), input.start.getTime() + MIN_DURATION_MS))
  return {
    title: truncate(input.title, 128),
    // Both mark the meeting as this request's, so a lost create can be found again (see find).
    agenda: withRequestMarker(input.description ?? '', input.requestId, AGENDA_MAX),
    integrationTags: [input.requestId],
    password: settingString(settings, 'password', '') || webexPassword(),
    start: utcSeconds(input.start),
    end: utcSeconds(end),
    timezone: input.timeZone,
    enabledJoinBeforeHost: settingBoolean(settings, 'joinBeforeHost', false),
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
  return { externalId: id, joinUrl, ...(passcode && { passcode }), ...(dialIn.length > 0 && { dialIn }) }
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

export const webexProvider: ProviderAdapter = {
  id: 'webex',
  name: 'Webex',
  oauth: {
    envPrefix: 'WEBEX',
    scopes: SCOPES,
    // Webex's token response has no `scope`; a missing scope shows up as 403 on the API.
    requiredScopes: SCOPES,
    clientAuth: 'body',
    consoleUrl: 'https://developer.webex.com/my-apps/new/integration',
    registrationHelp: {
      en: 'Sign in at developer.webex.com, open My Webex Apps → Create a New App → Integration. Enter the redirect URI shown here, select the scopes spark:people_read, meeting:schedules_read and meeting:schedules_write, then copy the Client ID and Client Secret. Whoever connects needs a Webex account that may host meetings.',
      nl: 'Meld u aan op developer.webex.com en open My Webex Apps → Create a New App → Integration. Vul de redirect-URI van deze pagina in, kies de scopes spark:people_read, meeting:schedules_read en meeting:schedules_write en kopieer daarna de Client ID en het Client Secret. Wie verbinding maakt, heeft een Webex-account nodig dat vergaderingen mag organiseren.',
    },
  },

  async identity(api, endpoints) {
    const me = bodyOf(await call(() => api.request('GET', endpoints.userinfoUrl), refine), 'user')
    const id = str(me.id)
    if (!id) throw new ProviderError('retry', 'Webex answered /people/me without an id', {}, { code: 'incomplete_answer', provider: 'Webex' })
    const email = str(arr(me.emails)[0])
    return { accountId: id, name: str(me.displayName) ?? email ?? id, ...(email && { email }) }
  },

  settings: {
    fields: [
      {
        name: 'password',
        type: 'text',
        required: true,
        maxLength: WEBEX_PASSWORD_MAX,
        label: { en: 'Meeting password', nl: 'Wachtwoord voor vergaderingen' },
        hint: {
          en: `${WEBEX_PASSWORD_MIN} to ${WEBEX_PASSWORD_MAX} characters with a capital letter, a small letter and a digit. Your Webex site may ask for more.`,
          nl: `${WEBEX_PASSWORD_MIN} tot ${WEBEX_PASSWORD_MAX} tekens met een hoofdletter, een kleine letter en een cijfer. Uw Webex-site kan meer eisen.`,
        },
      },
      { name: 'joinBeforeHost', type: 'checkbox', label: { en: 'Participants may join before the host', nl: 'Deelnemers mogen binnenkomen vóór de organisator' } },
    ],
    defaults: () => ({ password: webexPassword(), joinBeforeHost: false }),
    parse(form: Form, language: Language) {
      const errors: Record<string, string> = {}
      const password = text(form, 'password', language, errors, true)
      if (!errors.password) {
        if (FORBIDDEN.test(password)) errors.password = MSG.passwordChars[language]
        else if (password.length < WEBEX_PASSWORD_MIN || password.length > WEBEX_PASSWORD_MAX) errors.password = MSG.passwordLength[language]
        else if (!/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password)) errors.password = MSG.passwordClasses[language]
      }
      return { settings: { password, joinBeforeHost: checkbox(form, 'joinBeforeHost') }, errors }
    },
  },

  meetings: {
    async create(api, input, settings) {
      const res = await call(() => api.request('POST', 'meetings', meetingBody(input, settings)), refine)
      return toRef(bodyOf(res, 'meeting'))
    },

    async update(api, ref, input, settings) {
      const res = await call(() => api.request('PUT', meetingPath(ref), meetingBody(input, settings)), refine)
      return toRef(bodyOf(res, 'meeting'), ref)
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
