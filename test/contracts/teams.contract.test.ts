import t from 'tap'
import { teamsProvider } from '../../src/providers/teams/adapter.js'
import { startMicrosoftFake } from '../fakes/microsoft.js'
import { futureMeeting } from '../providers/helpers.js'
import { checkErrorAnswers, checkSession, session, type Known } from './harness.js'
import { Spec } from './spec.js'

const spec = new Spec('microsoft-graph.json')
const fake = await startMicrosoftFake()
t.teardown(() => fake.close())
const settings = { lobbyBypass: 'organizer', preferDirectLink: true }

/** Where our adapter or fake departs from the Graph v1.0 CSDL (microsoftgraph/msgraph-metadata) today (see the report). */
const KNOWN: Known[] = []

t.test('identity, create, update, find, delete: every request and answer as the spec says', async (t) => {
  const s = await session(fake, teamsProvider)
  await teamsProvider.identity(s.api, s.connection.endpoints, s.connection.tokenResponse)
  const input = futureMeeting()
  const ref = await teamsProvider.meetings.create(s.api, input, settings)
  await teamsProvider.meetings.update(s.api, ref, futureMeeting({ title: 'Moved follow-up', daysAhead: 5, minutes: 20, requestId: input.requestId }), { ...settings, lobbyBypass: 'everyone' })
  if (teamsProvider.meetings.find) t.ok(await teamsProvider.meetings.find(s.api, input), 'find sees it')
  await teamsProvider.meetings.delete(s.api, ref)
  await teamsProvider.meetings.delete(s.api, ref) // gone: 404
  checkSession(t, fake, s, spec, KNOWN, 5)
})

t.test('error answers have the Graph error shape', async (t) => {
  await checkErrorAnswers(t, fake, teamsProvider, spec, (api) => teamsProvider.meetings.create(api, futureMeeting(), settings), [400, 403, 404, 429, 500, 503], KNOWN)
})
