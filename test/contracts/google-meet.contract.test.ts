import t from 'tap'
import { googleMeetProvider } from '../../src/providers/google-meet/adapter.js'
import { startGoogleFake } from '../fakes/google.js'
import { futureMeeting } from '../providers/helpers.js'
import { checkErrorAnswers, checkSession, judge, session, type Known } from './harness.js'
import { Spec } from './spec.js'

const spec = new Spec('google-calendar.json')
const fake = await startGoogleFake()
t.teardown(() => fake.close())
const meetings = googleMeetProvider.meetings

/** Where our adapter or fake departs from the Calendar v3 discovery document today (see the report). */
// Fixed and now checked for real (it was a todo here): after a 409 on a deleted event, a new requestId.
const KNOWN: Known[] = []

t.test('create (twice), refresh, update, find, delete: every Calendar request and answer as the spec says', async (t) => {
  const s = await session(fake, googleMeetProvider)
  const input = futureMeeting()
  const ref = await meetings.create(s.api, input, {})
  await meetings.create(s.api, { ...input }, {}) // the same request id: 409, then the earlier event
  await meetings.refresh?.(s.api, ref)
  await meetings.update(s.api, ref, futureMeeting({ title: 'Moved', description: 'New agenda', daysAhead: 4, requestId: input.requestId }), {})
  t.ok(await meetings.find?.(s.api, input), 'find sees it')
  await meetings.delete(s.api, ref)
  await meetings.delete(s.api, ref) // deleted: 410
  // userinfo is OpenID Connect, not the Calendar API: its request and answer are not checked here.
  s.exchanges.splice(0, s.exchanges.length, ...s.exchanges.filter((x) => x.url.pathname.startsWith(spec.fixture.basePath)))
  checkSession(t, fake, s, spec, KNOWN, 6)
})

t.test('a create after the event of the same request was deleted asks for a new conference with a new requestId', async (t) => {
  const s = await session(fake, googleMeetProvider)
  const input = futureMeeting()
  const ref = await meetings.create(s.api, input, {})
  await meetings.delete(s.api, ref)
  const again = await meetings.create(s.api, { ...input }, {}).catch((error: unknown) => error)
  t.ok(again, 'the second create answered')
  const inserts = fake.requests.slice(s.from).filter((r) => r.method === 'POST' && r.path.endsWith('/events'))
  const ids = inserts.map((r) => (r.body as { conferenceData?: { createRequest?: { requestId?: string } } }).conferenceData?.createRequest?.requestId)
  t.ok(inserts.length >= 2, `${inserts.length} inserts`)
  // The first insert of the second create repeats the first (same event id: an idempotent retry, answered 409);
  // the insert that follows the 409 is a new request for a new conference.
  const last = ids.at(-1)
  const violations = inserts.length >= 3 && last === ids[0] ? [`createRequest.requestId ${String(last)} used again after its event was deleted`] : []
  judge(t, 'the conference request after a deleted event', violations, KNOWN)
  checkSession(t, fake, s, spec, KNOWN, 4)
})

t.test('a pending conference, then success: every answer as the spec says', async (t) => {
  fake.knobs.pendingPolls = 1
  try {
    const s = await session(fake, googleMeetProvider)
    await meetings.create(s.api, futureMeeting(), {})
    checkSession(t, fake, s, spec, KNOWN, 2)
  } finally {
    fake.reset()
  }
})

t.test('error answers have the Google JSON error shape', async (t) => {
  await checkErrorAnswers(t, fake, googleMeetProvider, spec, (api) => meetings.create(api, futureMeeting(), {}), [400, 403, 404, 429, 500, 503], KNOWN)
})
