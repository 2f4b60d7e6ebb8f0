import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ProviderError } from '../../src/providers/contract.js'
import { webexProvider } from '../../src/providers/webex/adapter.js'
import { startWebexFake } from '../fakes/webex.js'
import type { RecordedRequest } from '../fakes/common.js'
import { createOAuthClient, OAuthError } from '../../src/connections/oauth-client.js'
import { endpointsOf, futureMeeting, REDIRECT_URI } from '../providers/helpers.js'
import { apiRequests, checkErrorAnswers, checkSession, judge, session, type Known } from './harness.js'
import { Spec } from './spec.js'

const spec = new Spec('webex.json')
const fake = await startWebexFake()
t.teardown(() => fake.close())
const settings = { password: 'Renew2030x', joinBeforeHost: true }

/** Where our adapter or fake departs from webex/webex-openapi-specs public-spec/webex-meeting.json today (see the report). */
const KNOWN: Known[] = [
  {
    // The spec contradicts itself: its media type is JSON Patch, its schema a plain object of fields. The adapter
    // sends what the schema describes (the fields to change) as application/json; open until checked at Webex.
    match: /PATCH \/meetings\/\{meetingId\}: content-type application\/json is not one the spec accepts/,
    todo: 'spec says Patch a Meeting takes application/json-patch+json, yet its schema PatchMeetingObject is a plain object of fields (a merge patch), not a JSON Patch list; check what Webex accepts before changing src/providers/webex/adapter.ts or the fixture',
  },
]
// Fixed and now checked for real (each was a todo here): meetingSeriesId in the fake's answers; a token error
// in Webex's shape means reconnect; 423 is retried after its Retry-After; no meeting over 23 h 59 min is sent;
// no update sends a start before now.

/** What the Create/Update/Patch a Meeting descriptions of start and end say in prose (quoted in KNOWN). */
function timeRules(r: RecordedRequest): string[] {
  const body = r.body as Record<string, unknown> | undefined
  if (!body || typeof body !== 'object' || !['POST', 'PUT', 'PATCH'].includes(r.method) || !/\/meetings(\/[^/]+)?$/.test(r.path)) return []
  const errors: string[] = []
  const start = typeof body.start === 'string' ? Date.parse(body.start) : NaN
  const end = typeof body.end === 'string' ? Date.parse(body.end) : NaN
  if (Number.isFinite(start) && Number.isFinite(end)) {
    const minutes = (end - start) / 60_000
    if (minutes < 10) errors.push(`${r.method} ${r.path}: ${minutes} minutes between start and end is shorter than 10 minutes`)
    if (minutes > 23 * 60 + 59) errors.push(`${r.method} ${r.path}: ${minutes} minutes between start and end is longer than 23 hours 59 minutes`)
  }
  // Whole minutes: "start of the meeting will be accurate to minutes"; one minute of slack for the clock.
  if (Number.isFinite(start) && start < r.at - 60_000) errors.push(`${r.method} ${r.path}: start ${String(body.start)} is before the time of the request`)
  return errors
}

t.test('identity, create, update, find, delete: every request and answer as the spec says', async (t) => {
  const s = await session(fake, webexProvider)
  await webexProvider.identity(s.api, s.connection.endpoints, s.connection.tokenResponse)
  const input = futureMeeting()
  const ref = await webexProvider.meetings.create(s.api, input, settings)
  await webexProvider.meetings.update(s.api, ref, futureMeeting({ title: 'Moved', daysAhead: 6, minutes: 60, requestId: input.requestId }), { ...settings, password: 'Other2030y' })
  t.ok(await webexProvider.meetings.find?.(s.api, { ...input, requestId: input.requestId }), 'find sees it')
  await webexProvider.meetings.delete(s.api, ref)
  await webexProvider.meetings.delete(s.api, ref) // gone: 404
  checkSession(t, fake, s, spec, KNOWN, 6)
  for (const r of apiRequests(fake, s.from, spec).filter((x) => x.body !== undefined)) judge(t, `${r.method} ${r.path}: start and end as the spec's prose says`, timeRules(r), KNOWN)
})

t.test('a meeting over 23 h 59 min is not sent to Webex', async (t) => {
  const s = await session(fake, webexProvider)
  await webexProvider.meetings.create(s.api, futureMeeting({ minutes: 24 * 60 }), settings).catch(() => undefined)
  const sent = apiRequests(fake, s.from, spec).filter((r) => r.method === 'POST')
  judge(t, 'the 24-hour create', sent.flatMap(timeRules), KNOWN)
})

t.test('moving a meeting that has started does not send a start in the past', async (t) => {
  const s = await session(fake, webexProvider)
  const input = futureMeeting({ minutes: 60 })
  const ref = await webexProvider.meetings.create(s.api, input, settings)
  // The meeting began 20 minutes ago (the fake's clock moves, the adapter reads its own); the host extends it.
  const began = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000)
  await webexProvider.meetings.update(s.api, ref, { ...input, start: began, end: new Date(began.getTime() + 90 * 60_000) }, settings).catch(() => undefined)
  const sent = apiRequests(fake, s.from, spec).filter((r) => r.method === 'PUT' || r.method === 'PATCH')
  t.ok(sent.length <= 1, 'at most one update request')
  judge(t, 'the update of a started meeting', sent.flatMap(timeRules), KNOWN)
  await webexProvider.meetings.delete(s.api, ref).catch(() => undefined)
})

t.test('a token-endpoint error has the documented Webex error shape {message, errors, trackingId}', async (t) => {
  // Webex documents one error body for its API: the 400 answer of Create a Meeting.
  const errorSchema = spec.fixture.operations.find((o) => o.method === 'POST' && o.path === '/meetings')?.responses['400']
  t.ok(errorSchema, 'the spec has the error shape')
  fake.knobs.tokenError = 'invalid_grant'
  try {
    const res = await fetch(fake.env.WEBEX_TOKEN_URL ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: fake.clientId, client_secret: fake.clientSecret }).toString(),
    })
    const body = await res.json()
    t.ok(res.status >= 400, `an error status (${res.status})`)
    judge(t, `the token error ${JSON.stringify(body).slice(0, 120)}`, spec.validate({ allOf: [errorSchema ?? {}, { required: ['message', 'trackingId'] }] }, body, 'token error'), KNOWN)
  } finally {
    fake.reset()
  }
})

t.test('error answers: the statuses the spec lists', async (t) => {
  await checkErrorAnswers(t, fake, webexProvider, spec, (api) => webexProvider.meetings.create(api, futureMeeting(), settings), [400, 404, 409, 423, 429, 500, 503], KNOWN)
})

t.test('423 Locked is temporary, with its Retry-After', async (t) => {
  // Spec (every meetings operation): "423 Locked: The requested resource is temporarily unavailable. A
  // Retry-After header may be present that specifies how many seconds you need to wait before attempting the
  // request again."
  const s = await session(fake, webexProvider)
  fake.knobs.apiStatus = 423
  fake.knobs.retryAfterSeconds = 9
  let error: unknown
  try {
    await webexProvider.meetings.create(s.api, futureMeeting(), settings)
  } catch (e) {
    error = e
  } finally {
    fake.reset()
  }
  const e = error as ProviderError | undefined
  t.ok(e instanceof ProviderError, 'the create fails with a ProviderError')
  const violations: string[] = []
  if (e?.kind !== 'retry') violations.push(`423 classified as ${String(e?.kind)}, not as temporary (retry)`)
  else if (e.details.retryAfterMs !== 9000) violations.push(`423 retried after ${String(e.details.retryAfterMs)} ms, not the Retry-After 9 s`)
  judge(t, 'the 423 answer', violations, KNOWN)
})

t.test('a long title and description are cut to the spec’s limits; the tag is a request id', async (t) => {
  const s = await session(fake, webexProvider)
  const input = futureMeeting({ title: 'T'.repeat(300), description: 'D'.repeat(5000), requestId: randomUUID() })
  const ref = await webexProvider.meetings.create(s.api, input, settings)
  await webexProvider.meetings.update(s.api, ref, { ...input, title: 'U'.repeat(200) }, settings)
  await webexProvider.meetings.delete(s.api, ref)
  checkSession(t, fake, s, spec, KNOWN, 3)
})

t.test('a token error in the documented shape {message, errors, trackingId} means: sign in again', async (t) => {
  // The Webex fake answers a refresh with an unknown token, and the invalid_grant knob, in that shape (checked above).
  const client = await createOAuthClient({
    spec: webexProvider.oauth as NonNullable<typeof webexProvider.oauth>,
    endpoints: endpointsOf(fake, 'WEBEX'),
    credentials: { id: fake.clientId, secret: fake.clientSecret },
    redirectUri: REDIRECT_URI,
    timeoutMs: 2000,
    providerName: 'Webex',
  })
  t.teardown(() => client.close())
  for (const [name, knobs] of [
    ['an unknown refresh token', {}],
    ['the invalid_grant answer', { tokenError: 'invalid_grant' as const }],
  ] as const) {
    Object.assign(fake.knobs, knobs)
    let kind: string | undefined
    try {
      await client.refresh('CANARY-webex-rt-not-issued')
      kind = 'no error'
    } catch (error) {
      kind = error instanceof OAuthError ? error.kind : `a ${String((error as Error)?.name)}`
    } finally {
      fake.reset()
    }
    judge(t, `${name}: classified`, kind === 'invalid_grant' ? [] : [`token error classified as ${kind}, not invalid_grant (reconnect)`], KNOWN)
  }
})
