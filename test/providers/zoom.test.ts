import t from 'tap'
import { zoomPasscode, zoomProvider } from '../../src/providers/zoom.js'
import { startZoomFake } from '../fakes/zoom.js'
import { asForm, checkFaults, connect, FAULTS, futureMeeting, rejectsWith } from './helpers.js'

const fake = await startZoomFake()
t.teardown(() => fake.close())
const settings = { passcode: 'Ab3@x_9*', waitingRoom: true, joinBeforeHost: false, autoRecording: 'cloud' }

t.test('the OAuth spec matches what Zoom grants', async (t) => {
  const oauth = zoomProvider.oauth
  t.ok(oauth)
  t.equal(oauth?.clientAuth, 'header', 'Zoom wants HTTP Basic at the token endpoint')
  const c = await connect(fake, zoomProvider)
  const granted = String(c.tokenResponse.scope).split(' ')
  for (const scope of oauth?.requiredScopes ?? []) t.ok(granted.includes(scope), `the app's grant contains ${scope}`)
  t.match(oauth?.registrationHelp.en, /developer's own|your own Zoom account/)
  t.match(oauth?.registrationHelp.nl, /Zoom-account/)
})

t.test('identity: users/me with first and last name', async (t) => {
  const c = await connect(fake, zoomProvider)
  const identity = await zoomProvider.identity(c.api(), c.endpoints, c.tokenResponse)
  t.same(identity, { accountId: fake.user.id, name: 'Jill Chill', email: 'jill.chill@example.com' })
})

t.test('settings', async (t) => {
  const s = zoomProvider.settings
  t.test('defaults are valid and the passcode is random', async (t) => {
    const a = s.defaults()
    const b = s.defaults()
    t.not(a.passcode, b.passcode, 'a fresh passcode each time')
    t.same(s.parse(asForm(a), 'en').errors, {})
    t.equal(a.waitingRoom, false)
    t.equal(a.joinBeforeHost, false)
    t.equal(a.autoRecording, 'none')
    for (let i = 0; i < 200; i++) {
      const passcode = zoomPasscode()
      t.equal(s.parse({ passcode }, 'en').errors.passcode, undefined, `${passcode} is valid`)
      if (!/[a-z]/.test(passcode) || !/[A-Z]/.test(passcode) || !/[0-9]/.test(passcode) || !/[@\-_*]/.test(passcode) || passcode.length !== 10) {
        t.fail(`${passcode} lacks a character class`)
      }
    }
  })
  t.test('good values', async (t) => {
    const r = s.parse({ passcode: ' Ab3@x_9* ', waitingRoom: 'on', joinBeforeHost: 'true', autoRecording: 'local' }, 'en')
    t.same(r, { settings: { passcode: 'Ab3@x_9*', waitingRoom: true, joinBeforeHost: true, autoRecording: 'local' }, errors: {} })
    t.same(s.parse({ passcode: 'abcdef' }, 'en').settings, { passcode: 'abcdef', waitingRoom: false, joinBeforeHost: false, autoRecording: 'none' }, 'unchecked boxes are off')
  })
  t.test('each validation error, in the asked language', async (t) => {
    t.equal(s.parse({}, 'en').errors.passcode, 'Fill in this field.')
    t.equal(s.parse({ passcode: '' }, 'nl').errors.passcode, 'Vul dit veld in.')
    t.equal(s.parse({ passcode: 'abc12' }, 'en').errors.passcode, 'Use 6 to 10 characters.')
    t.equal(s.parse({ passcode: 'abcdefghijk' }, 'nl').errors.passcode, 'Gebruik 6 tot 10 tekens.')
    t.match(s.parse({ passcode: 'abc def' }, 'en').errors.passcode, /only letters, digits and @ - _ \*/)
    t.match(s.parse({ passcode: 'abc!defg' }, 'nl').errors.passcode, /alleen letters, cijfers/)
    t.match(s.parse({ passcode: 'pässcode' }, 'en').errors.passcode, /only letters/)
    t.equal(s.parse({ passcode: 'abcdef', autoRecording: 'always' }, 'en').errors.autoRecording, 'Choose one of the options.')
  })
})

t.test('create, update, delete', async (t) => {
  const c = await connect(fake, zoomProvider)
  const api = c.api()
  const input = futureMeeting({ minutes: 45 })
  const ref = await zoomProvider.meetings.create(api, input, settings)
  const stored = fake.meetings.get(ref.externalId)
  t.ok(stored, 'the meeting exists at Zoom under the returned id')
  t.type(ref.externalId, 'string')
  t.equal(stored.topic, input.title)
  t.equal(stored.type, 2)
  t.equal(stored.start_time, input.start.toISOString().replace(/\.\d{3}Z$/, 'Z'))
  t.equal(stored.duration, 45)
  t.equal(stored.timezone, 'Europe/Amsterdam')
  t.equal(stored.agenda, input.description)
  t.equal(stored.password, 'Ab3@x_9*')
  t.equal(stored.settings.waiting_room, true)
  t.equal(stored.settings.join_before_host, false)
  t.equal(stored.settings.auto_recording, 'cloud')
  const body = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/users/me/meetings'))?.body as Record<string, unknown>
  t.match(String(body.start_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'start_time in UTC without milliseconds')

  t.equal(ref.joinUrl, stored.join_url)
  t.equal(ref.passcode, 'Ab3@x_9*')
  t.notOk(JSON.stringify(ref).includes('zak='), 'the host start_url is not kept')
  t.same(ref.dialIn?.[0], { number: '+1 646 558 8656', label: 'US (New York)', pin: ref.externalId })
  t.same(ref.dialIn?.[2], { number: '+49 69 7104 9922', label: 'Germany', pin: ref.externalId })

  const later = futureMeeting({ title: 'Renamed follow-up', daysAhead: 3, minutes: 30 })
  const updated = await zoomProvider.meetings.update(api, ref, later, { ...settings, waitingRoom: false })
  t.equal(updated.joinUrl, ref.joinUrl, 'the join link stays the same')
  t.equal(updated.externalId, ref.externalId)
  t.equal(stored.topic, 'Renamed follow-up')
  t.equal(stored.duration, 30)
  t.equal(stored.start_time, later.start.toISOString().replace(/\.\d{3}Z$/, 'Z'))
  t.equal(stored.settings.waiting_room, false)
  t.equal(fake.count(`/meetings/${ref.externalId}`, 'GET'), 1, 'the meeting is read after the bodiless 204')

  await zoomProvider.meetings.delete(api, ref)
  t.notOk(fake.meetings.has(ref.externalId))
  await zoomProvider.meetings.delete(api, ref)
  t.pass('deleting twice is fine (404 code 3001 counts as done)')
  await rejectsWith(t, zoomProvider.meetings.update(api, ref, later, settings), 'not_found', 'updating a deleted meeting')
})

t.test('a long title is cut to Zoom’s 200 characters; a missing passcode setting gets a random one', async (t) => {
  const c = await connect(fake, zoomProvider)
  const ref = await zoomProvider.meetings.create(c.api(), futureMeeting({ title: 'x'.repeat(300) }), {})
  const stored = fake.meetings.get(ref.externalId)
  t.equal(stored.topic.length, 200)
  t.match(stored.password, /^[A-Za-z0-9@\-_*]{10}$/)
  t.equal(stored.settings.auto_recording, 'none')
})

t.test('errors are classified', async (t) => {
  const c = await connect(fake, zoomProvider)
  const create = (api: Parameters<typeof zoomProvider.meetings.delete>[0]) => zoomProvider.meetings.create(api, futureMeeting(), settings)
  await checkFaults(t, fake, c, create, [
    ...FAULTS,
    { name: 'an XML rate-limit answer', knobs: { apiXmlBody: true, apiStatus: 429 }, kind: 'retry', status: 429 },
    { name: 'an XML validation error', knobs: { apiXmlBody: true }, kind: 'fail', status: 400 },
  ])
  fake.knobs.apiInvalidToken = true
  const invalid = await rejectsWith(t, create(c.api()), 'reauth')
  t.equal(invalid.details.code, '124')
  fake.reset()

  const ref = await create(c.api())
  await checkFaults(t, fake, c, (api) => zoomProvider.meetings.delete(api, ref), FAULTS.slice(0, 2))
})

t.test('a grant without a meeting scope (Zoom 4711) asks to reconnect', async (t) => {
  fake.knobs.dropScope = 'meeting:write:meeting'
  const c = await connect(fake, zoomProvider)
  fake.reset()
  const error = await rejectsWith(t, zoomProvider.meetings.create(c.api(), futureMeeting(), settings), 'reauth')
  t.equal(error.details.code, '4711')
  t.match(error.details.userMessage?.en, /meeting:write:meeting/)
  t.match(error.details.userMessage?.nl, /opnieuw verbinding/)
})
