/**
 * Microsoft Teams: Microsoft identity platform v2 (authorization code + PKCE, secret in the form body, scope
 * resent on refresh) and Graph onlineMeetings (delegated).
 *
 * Checked against Microsoft's documentation (search tools, stored public copies):
 *   - lobbyBypassSettings.scope is a lobbyBypassScope: organizer, organization, organizationAndFederated,
 *     everyone, invited, organizationExcludingGuests (learn.microsoft.com lobbybypasssettings resource).
 *   - onlineMeetings: POST /me/onlineMeetings → 201 with id, joinWebUrl, audioConferencing{conferenceId,
 *     tollNumbers[], tollFreeNumbers[] (tollNumber/tollFreeNumber deprecated)}, joinMeetingIdSettings
 *     {joinMeetingId, passcode}; PATCH changes start and end together; "Delegated (personal Microsoft
 *     account): Not supported" (Create onlineMeeting docs). The meeting is on no calendar: invitations are ours.
 *   - Personal accounts: the id_token's `tid` is 9188040d-6c67-4c5b-b112-36a304b66dad for every MSA; Graph
 *     /me of an MSA has a 16-hex-digit id instead of a GUID; onlineMeetings answers 403 AuthenticationError.
 *   - Idempotent create: POST /me/onlineMeetings/createOrGet with `externalId` (required), startDateTime,
 *     endDateTime, subject, participants; "If the external ID already exists, this API will return the
 *     onlineMeeting object with that external ID": 201 when created, 200 when an existing one is returned;
 *     tenantId + userId + externalId identify the meeting; personal accounts not supported (onlineMeeting:
 *     createOrGet, microsoft-graph-docs-contrib v1.0). The docs do not say whether an existing meeting's fields
 *     are updated; their examples (and microsoft-graph-docs-contrib #465) show it returned as it was, and
 *     lobbyBypassSettings is no createOrGet parameter (msgraph-sdk-dotnet #1121: ignored). So create follows
 *     createOrGet with a PATCH of everything we own. There is no lookup by externalId (GET onlineMeetings
 *     filters only on joinWebUrl, joinMeetingId, videoTeleconferenceId), so `find` is createOrGet as well.
 */
import { ProviderError, type ApiClient, type MeetingInput, type MeetingRef, type ProviderAdapter, type ProviderSettings } from '../contract.js'
import { arr, bodyOf, call, deleteIgnoringGone, obj, str, truncate } from '../settings-helpers.js'
import { TEAMS_REGISTRATION_FIELDS } from './endpoints.js'
import { readTeamsSettings, teamsSettings } from './settings.js'
import { PERSONAL_ACCOUNT_MESSAGE, TEAMS_TEXT } from './text.js'

/** The tenant id Microsoft uses for personal (MSA) accounts. */
export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad'

const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'User.Read', 'OnlineMeetings.ReadWrite']

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const RATE_LIMITED = new Set(['TooManyRequests', 'rateLimitExceeded', 'activityLimitReached', 'throttledRequest'])

function personalAccount(message: string): ProviderError {
  return new ProviderError('fail', message, { code: 'personal_account', userMessage: PERSONAL_ACCOUNT_MESSAGE })
}

function refine(error: ProviderError): ProviderError {
  const code = error.details.code
  if (error.details.status === 403 && code === 'AuthenticationError') {
    const reason = error.reason && { ...error.reason, hint: 'personal_account' as const }
    return new ProviderError('fail', `${error.message}: Graph refuses online meetings for this account (a personal Microsoft account?)`, { ...error.details, userMessage: PERSONAL_ACCOUNT_MESSAGE }, reason)
  }
  if (error.kind !== 'retry' && code !== undefined && RATE_LIMITED.has(code)) {
    return new ProviderError('retry', error.message, { ...error.details, retryAfterMs: error.details.retryAfterMs ?? 30_000 }, error.reason)
  }
  return error
}

/** The payload of a JWT, not verified: it came straight from the token endpoint over TLS (OIDC Core 3.1.3.7). */
function jwtClaims(token: unknown): Record<string, unknown> {
  if (typeof token !== 'string') return {}
  const payload = token.split('.')[1]
  if (!payload) return {}
  try {
    return obj(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')))
  } catch {
    return {}
  }
}

function meetingBody(input: MeetingInput, stored: ProviderSettings) {
  const scope = readTeamsSettings(stored).lobbyBypass
  return {
    startDateTime: input.start.toISOString(),
    endDateTime: input.end.toISOString(),
    subject: truncate(input.title, 255),
    lobbyBypassSettings: { scope, isDialInBypassEnabled: scope === 'everyone' },
  }
}

function toRef(meeting: Record<string, unknown>, fallback?: MeetingRef): MeetingRef {
  const id = str(meeting.id) ?? fallback?.externalId
  const joinUrl = str(meeting.joinWebUrl) ?? fallback?.joinUrl
  if (!id || !joinUrl) throw new ProviderError('retry', 'Graph answered without a meeting id or joinWebUrl', {}, { code: 'incomplete_answer', provider: 'Microsoft Teams' })
  const audio = obj(meeting.audioConferencing)
  const pin = str(audio.conferenceId)
  const toll = arr(audio.tollNumbers).map(str)
  const tollFree = arr(audio.tollFreeNumbers).map(str)
  const numbers = [...(toll.length > 0 ? toll : [str(audio.tollNumber)]), ...(tollFree.length > 0 ? tollFree : [str(audio.tollFreeNumber)])]
  const dialIn = [...new Set(numbers.filter((n): n is string => Boolean(n)))].map((number) => ({ number, ...(pin && { pin }) }))
  const joinById = obj(meeting.joinMeetingIdSettings)
  const passcode = str(joinById.passcode)
  // Teams: join by meeting ID (teams.microsoft.com/meet, or a Teams Room) with the passcode.
  const meetingCode = str(joinById.joinMeetingId)
  return { externalId: id, joinUrl, ...(passcode && { passcode }), ...(meetingCode && { meetingCode }), ...(dialIn.length > 0 && { dialIn }) }
}

const meetingPath = (ref: MeetingRef) => `me/onlineMeetings/${encodeURIComponent(ref.externalId)}`

/**
 * createOrGet with the request id as externalId: the meeting an earlier call with this request id made
 * (`created: false`, 200), or a new one (`created: true`, 201). Takes only the documented parameters.
 */
async function createOrGet(api: ApiClient, input: MeetingInput): Promise<{ created: boolean; meeting: Record<string, unknown> }> {
  const body = {
    externalId: input.requestId,
    startDateTime: input.start.toISOString(),
    endDateTime: input.end.toISOString(),
    subject: truncate(input.title, 255),
  }
  const res = await call(() => api.request('POST', 'me/onlineMeetings/createOrGet', body), refine)
  return { created: res.status === 201, meeting: bodyOf(res, 'meeting') }
}

/** PATCH of everything we own (start and end always together, as Graph wants). */
async function patchMeeting(api: ApiClient, ref: MeetingRef, input: MeetingInput, settings: ProviderSettings): Promise<MeetingRef> {
  const res = await call(() => api.request('PATCH', meetingPath(ref), meetingBody(input, settings)), refine)
  if (res.body && typeof res.body === 'object') return toRef(bodyOf(res, 'meeting'), ref)
  // Graph documents 200 with the meeting; should it answer 204, read the meeting instead.
  return toRef(bodyOf(await call(() => api.request('GET', meetingPath(ref)), refine), 'meeting'), ref)
}

export const teamsProvider: ProviderAdapter & { id: 'teams' } = {
  id: 'teams',
  name: 'Microsoft Teams',
  note: TEAMS_TEXT.note,
  oauth: {
    scopes: SCOPES,
    // Microsoft leaves offline_access out of the token response's scope; a refresh token proves it.
    requiredScopes: ['User.Read', 'OnlineMeetings.ReadWrite'],
    clientAuth: 'body',
    refreshParams: { scope: SCOPES.join(' ') },
    consoleUrl: 'https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade',
    registrationHelp: TEAMS_TEXT.registrationHelp,
    registrationFields: TEAMS_REGISTRATION_FIELDS,
  },

  async identity(api, endpoints, tokenResponse) {
    const tid = str(jwtClaims(tokenResponse.id_token).tid)
    if (tid && tid.toLowerCase() === MSA_TENANT_ID) throw personalAccount('signed in with a personal Microsoft account (MSA tenant in the id_token)')
    const me = bodyOf(await call(() => api.request('GET', endpoints.userinfoUrl), refine), 'user')
    const id = str(me.id)
    if (!id) throw new ProviderError('retry', 'Graph answered /me without an id', {}, { code: 'incomplete_answer', provider: 'Microsoft Teams' })
    // Without an id_token: work and school accounts have GUID object ids, personal accounts 16 hex digits.
    if (!tid && !GUID.test(id)) throw personalAccount('signed in with a personal Microsoft account (non-GUID user id)')
    const email = str(me.mail) ?? str(me.userPrincipalName)
    return { accountId: id, name: str(me.displayName) ?? email ?? id, ...(email && { email }) }
  },

  settings: teamsSettings,

  meetings: {
    async create(api, input, settings) {
      // Idempotent: a create retried with the same request id gets the same meeting back (200), never a second.
      const { meeting } = await createOrGet(api, input)
      // createOrGet takes no lobby settings and returns an existing meeting as it was: bring it in line.
      return patchMeeting(api, toRef(meeting), input, settings)
    },

    update: patchMeeting,

    async delete(api, ref) {
      await deleteIgnoringGone(api, meetingPath(ref), undefined, refine)
    },

    /**
     * Graph has no read-only lookup by externalId, so this is createOrGet too. 200: the meeting an earlier create
     * made. 201: no earlier create reached Graph; the meeting made now is the one the create that follows gets
     * back from createOrGet (same externalId), so null here still leaves exactly one meeting.
     */
    async find(api, input) {
      const { created, meeting } = await createOrGet(api, input)
      return created ? null : toRef(meeting)
    },
  },
}
