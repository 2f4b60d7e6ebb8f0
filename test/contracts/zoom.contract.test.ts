import t from 'tap'
import { zoomProvider } from '../../src/providers/zoom/adapter.js'
import { startZoomFake } from '../fakes/zoom.js'
import { futureMeeting } from '../providers/helpers.js'
import { checkErrorAnswers, checkSession, session, type Known } from './harness.js'
import { Spec } from './spec.js'

const spec = new Spec('zoom.json')
const fake = await startZoomFake()
t.teardown(() => fake.close())
const settings = { passcode: 'Ab3@x_9*', waitingRoom: true, joinBeforeHost: false, autoRecording: 'cloud' }

/** Where our adapter or fake departs from zoom/api openapi.v2.json today (see the report). */
const KNOWN: Known[] = []

t.test('identity, create, update, find, delete: every request and answer as the spec says', async (t) => {
  const s = await session(fake, zoomProvider)
  await zoomProvider.identity(s.api, s.connection.endpoints, s.connection.tokenResponse)
  const input = futureMeeting({ minutes: 45 })
  const ref = await zoomProvider.meetings.create(s.api, input, settings)
  await zoomProvider.meetings.update(s.api, ref, futureMeeting({ title: 'Moved', daysAhead: 5, minutes: 30, requestId: input.requestId }), settings)
  t.ok(await zoomProvider.meetings.find?.(s.api, input), 'find sees it')
  await zoomProvider.meetings.delete(s.api, ref)
  await zoomProvider.meetings.delete(s.api, ref) // gone: 404
  checkSession(t, fake, s, spec, KNOWN, 6)
})

t.test('error answers: the statuses the spec lists', async (t) => {
  await checkErrorAnswers(t, fake, zoomProvider, spec, (api) => zoomProvider.meetings.create(api, futureMeeting(), settings), [300, 400, 404, 429, 500], KNOWN)
})

t.test('a long title and description, and the default random passcode, stay within the spec', async (t) => {
  const s = await session(fake, zoomProvider)
  const input = futureMeeting({ title: 'T'.repeat(300), description: 'D'.repeat(5000) })
  const ref = await zoomProvider.meetings.create(s.api, input, { ...settings, passcode: '' })
  await zoomProvider.meetings.delete(s.api, ref)
  checkSession(t, fake, s, spec, KNOWN, 2)
})
