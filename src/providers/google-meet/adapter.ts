/**
 * Google Meet through Google Calendar: OAuth 2.0 web-server flow (PKCE, secret in the form body, offline
 * access) and Calendar v3 events with conferenceData.
 *
 * Checked against Google's documentation (search tools, stored public copies; see test/fakes/google.ts):
 *   - conferenceData.createRequest{requestId, conferenceSolutionKey{type: "hangoutsMeet"}} is only read with
 *     ?conferenceDataVersion=1; a requestId seen before is "ignored", so a retried create with the follow-up's
 *     stable requestId gets the same conference instead of a second one. That does not stop a second calendar
 *     EVENT, though: so the event gets an id of our own, derived from the request id. events.insert: "When
 *     creating new single or recurring events, you can specify their IDs": base32hex characters (a-v, 0-9), 5 to
 *     1024 of them, unique per calendar; a taken id answers 409 "The requested identifier already exists"
 *     (Event resource `id`; Calendar "Handle API errors"). Google adds that collisions may not be detected at
 *     creation time, so `find` first looks the id up (events.get) when an earlier create's answer was lost.
 *   - createRequest.status.statusCode is pending | success | failure: poll events.get while pending.
 *   - entryPoints: video (the join link), phone (tel: uri, label, pin, regionCode), more, sip.
 *   - sendUpdates=none: the app sends its own invitations; Google must not mail anybody.
 *   - DELETE of an event already deleted answers 410, an unknown event 404: both count as done.
 *   - A refresh token comes only with access_type=offline and, after the first consent, only with
 *     prompt=consent. Apps left in "Testing" get refresh tokens that die after 7 days.
 */
import { createHash, randomUUID } from 'node:crypto'
import { ProviderError, type ApiClient, type DialIn, type MeetingInput, type MeetingRef, type ProviderAdapter } from '../contract.js'
import { arr, bodyOf, call, deleteIgnoringGone, obj, sleep, str } from '../settings-helpers.js'
import { googleMeetSettings } from './settings.js'
import { GOOGLE_MEET_TEXT } from './text.js'

// The narrowest scope for events on calendars the user owns (the primary calendar): calendar.events would also
// reach every calendar shared with them.
const CALENDAR_EVENTS = 'https://www.googleapis.com/auth/calendar.events.owned'
const SCOPES = ['openid', 'email', 'profile', CALENDAR_EVENTS]
const EVENTS = 'calendars/primary/events'
const WRITE_QUERY = { conferenceDataVersion: '1', sendUpdates: 'none' }

const SCOPE_MISSING = new Set(['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT'])
const RATE_LIMITED = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RESOURCE_EXHAUSTED', 'quotaExceeded'])

/**
 * Google names the reason in error.errors[].reason (insufficientPermissions, rateLimitExceeded); this works
 * once the ProviderError's code carries it.
 */
function refine(error: ProviderError): ProviderError {
  const code = error.details.code
  if (code !== undefined && SCOPE_MISSING.has(code)) return new ProviderError('reauth', error.message, { ...error.details, userMessage: GOOGLE_MEET_TEXT.scopeMissing }, error.reason)
  if (code !== undefined && RATE_LIMITED.has(code) && error.kind !== 'retry') {
    return new ProviderError('retry', error.message, { ...error.details, retryAfterMs: error.details.retryAfterMs ?? 30_000 }, error.reason)
  }
  return error
}

interface ConferenceState {
  externalId: string
  joinUrl: string
  dialIn: DialIn[]
  status: 'pending' | 'success' | 'failure' | 'none'
}

function conferenceOf(event: Record<string, unknown>, fallbackId?: string): ConferenceState {
  const externalId = str(event.id) ?? fallbackId
  if (!externalId) throw new ProviderError('retry', 'Google answered without an event id', {}, { code: 'incomplete_answer', provider: 'Google Meet' })
  if (event.status === 'cancelled') throw new ProviderError('not_found', { code: 'event_deleted' }, { status: 410 })
  const conference = obj(event.conferenceData)
  const statusCode = str(obj(obj(conference.createRequest).status).statusCode)
  const entryPoints = arr(conference.entryPoints).map(obj)
  const video = entryPoints.find((e) => e.entryPointType === 'video')
  const joinUrl = str(video?.uri) ?? str(event.hangoutLink) ?? ''
  const dialIn = entryPoints
    .filter((e) => e.entryPointType === 'phone')
    .map((e) => {
      const number = str(e.label) ?? str(e.uri)?.replace(/^tel:/i, '')
      const pin = str(e.pin) ?? str(e.accessCode) ?? str(e.passcode)
      const label = str(e.regionCode)
      return number ? { number, ...(label && { label }), ...(pin && { pin }) } : null
    })
    .filter((d): d is DialIn => d !== null)
  const status = joinUrl ? 'success' : statusCode === 'pending' || statusCode === 'failure' ? statusCode : statusCode === 'success' ? 'success' : 'none'
  return { externalId, joinUrl, dialIn, status }
}

function toRef(state: ConferenceState, fallback?: MeetingRef): MeetingRef {
  if (state.status === 'failure') throw new ProviderError('fail', 'Google could not create the Meet conference (statusCode failure)', { userMessage: GOOGLE_MEET_TEXT.conferenceFailed }, { code: 'conference_failed', provider: 'Google Meet' })
  if (state.status === 'pending') return { externalId: state.externalId, joinUrl: fallback?.joinUrl ?? '', pending: true }
  const joinUrl = state.joinUrl || fallback?.joinUrl
  if (!joinUrl) throw new ProviderError('fail', 'the calendar event has no Google Meet conference', { userMessage: GOOGLE_MEET_TEXT.conferenceFailed }, { code: 'conference_failed', provider: 'Google Meet' })
  return { externalId: state.externalId, joinUrl, ...(state.dialIn.length > 0 && { dialIn: state.dialIn }) }
}

function eventBody(input: MeetingInput) {
  return {
    summary: input.title,
    ...(input.description !== undefined && { description: input.description }),
    start: { dateTime: input.start.toISOString(), timeZone: input.timeZone },
    end: { dateTime: input.end.toISOString(), timeZone: input.timeZone },
  }
}

const eventPath = (id: string) => `${EVENTS}/${encodeURIComponent(id)}`

async function readEvent(api: ApiClient, id: string): Promise<ConferenceState> {
  return conferenceOf(bodyOf(await call(() => api.request('GET', eventPath(id)), refine), 'event'), id)
}

/** The calendar event id a create with this request id uses: base32hex (here: hex digits), stable per request. */
export function eventIdFor(requestId: string): string {
  return `vm${createHash('sha256').update(requestId).digest('hex').slice(0, 40)}`
}

/** The event an earlier create with this request id made, or null (none, or deleted since). */
async function eventOfRequest(api: ApiClient, requestId: string): Promise<ConferenceState | null> {
  try {
    return await readEvent(api, eventIdFor(requestId))
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'not_found') return null
    throw error
  }
}

export interface GoogleMeetOptions {
  /** How many times create re-reads a pending conference before returning `pending: true`. */
  polls?: number
  pollDelayMs?: number
}

export function createGoogleMeetProvider(options: GoogleMeetOptions = {}): ProviderAdapter & { id: 'google-meet' } {
  const polls = options.polls ?? 3
  const pollDelayMs = options.pollDelayMs ?? 300

  return {
    id: 'google-meet',
    name: 'Google Meet',
    oauth: {
      scopes: SCOPES,
      // Google lists email/profile as userinfo.* URLs in the grant; only the calendar scope matters.
      requiredScopes: [CALENDAR_EVENTS],
      clientAuth: 'body',
      authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
      // From the endpoints: https://accounts.google.com for Google's cloud, or GOOGLE_ISSUER / the overridden server.
      issuer: (endpoints) => endpoints.issuer ?? 'https://accounts.google.com',
      consoleUrl: 'https://console.cloud.google.com/apis/credentials',
      registrationHelp: GOOGLE_MEET_TEXT.registrationHelp,
    },

    async identity(api, endpoints) {
      const me = bodyOf(await call(() => api.request('GET', endpoints.userinfoUrl), refine), 'user')
      const sub = str(me.sub)
      if (!sub) throw new ProviderError('retry', 'Google answered userinfo without sub', {}, { code: 'incomplete_answer', provider: 'Google Meet' })
      const email = str(me.email)
      return { accountId: sub, name: str(me.name) ?? email ?? sub, ...(email && { email }) }
    },

    settings: googleMeetSettings,

    meetings: {
      async create(api, input) {
        const body = { ...eventBody(input), conferenceData: { createRequest: { requestId: input.requestId, conferenceSolutionKey: { type: 'hangoutsMeet' } } } }
        let state: ConferenceState
        try {
          state = conferenceOf(bodyOf(await call(() => api.request('POST', EVENTS, { id: eventIdFor(input.requestId), ...body }, WRITE_QUERY), refine), 'event'))
        } catch (error) {
          if (!(error instanceof ProviderError) || error.details.status !== 409) throw error
          // An earlier create with this request id made the event: that one is the meeting, brought up to date.
          // Deleted since (a failed conference, or the user removed it), its id stays taken: then a new event
          // with an id of Google's, and a new conference request id: Google ignores a request id it has seen
          // ("If an ID provided is the same as for the previous request, the request is ignored"), which would
          // leave the new event without a Meet link.
          const earlier = await eventOfRequest(api, input.requestId)
          const again = { ...body, conferenceData: { createRequest: { requestId: `${input.requestId}.${randomUUID()}`, conferenceSolutionKey: { type: 'hangoutsMeet' } } } }
          const res = earlier
            ? await call(() => api.request('PATCH', eventPath(earlier.externalId), eventBody(input), WRITE_QUERY), refine)
            : await call(() => api.request('POST', EVENTS, again, WRITE_QUERY), refine)
          state = conferenceOf(bodyOf(res, 'event'), earlier?.externalId)
        }
        for (let i = 0; i < polls && state.status === 'pending'; i++) {
          await sleep(pollDelayMs)
          try {
            state = await readEvent(api, state.externalId)
          } catch {
            break // the event exists: hand back a pending meeting that `refresh` finishes later
          }
        }
        if (state.status === 'failure' || state.status === 'none') {
          // An event without a conference is useless to the follow-up: remove it (best effort) before failing.
          await deleteIgnoringGone(api, eventPath(state.externalId), { sendUpdates: 'none' }).catch(() => undefined)
        }
        return toRef(state)
      },

      async refresh(api, ref) {
        return toRef(await readEvent(api, ref.externalId), ref)
      },

      /** The event a create whose answer was lost made: it has the id derived from the request id. */
      async find(api, input) {
        const state = await eventOfRequest(api, input.requestId)
        return state && toRef(state)
      },

      async update(api, ref, input) {
        const res = await call(() => api.request('PATCH', eventPath(ref.externalId), eventBody(input), WRITE_QUERY), refine)
        return toRef(conferenceOf(bodyOf(res, 'event'), ref.externalId), ref)
      },

      async delete(api, ref) {
        await deleteIgnoringGone(api, eventPath(ref.externalId), { sendUpdates: 'none' }, refine)
      },
    },
  }
}

export const googleMeetProvider = createGoogleMeetProvider()
