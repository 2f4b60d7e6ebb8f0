import t from 'tap'
import { zoomProvider } from '../../src/providers/zoom/adapter.js'
import { zoomPasscode } from '../../src/providers/zoom/settings.js'
import { startZoomFake } from '../fakes/zoom.js'
import { asForm, checkFaults, connect, createWithLostAnswer, FAULTS, futureMeeting, meetingsOfRequest, rejectsWith } from './helpers.js'

const fake = await startZoomFake()
t.teardown(() => fake.close())
const settings = { passcode: 'Ab3@x_9*', waitingRoom: true, joinBeforeHost: false, autoRecording: 'cloud' }

const noMillis = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

/** A meeting as Zoom keeps it, for filling the fake's list (only what the list and a read need). */
function filler(over: Record<string, unknown>): Record<string, unknown> {
  const id = Number(over.id)
  return {
    uuid: `filler${id}==`,
    host_id: fake.user.id,
    topic: 'Another meeting',
    type: 2,
    status: 'waiting',
    start_time: noMillis(new Date()),
    duration: 30,
    timezone: 'UTC',
    agenda: '',
    created_at: noMillis(new Date()),
    join_url: `https://us05web.zoom.us/j/${id}`,
    password: 'abc123',
    settings: {},
    ...over,
  }
}

/** `count` meetings starting before `before` (so the list shows them first); returns their ids. */
function addFillers(count: number, before: Date): string[] {
  const ids: string[] = []
  for (let i = 0; i < count; i++) {
    const id = 82000000000 + i
    const start = new Date(before.getTime() - (count - i) * 3_600_000)
    fake.meetings.set(String(id), filler({ id, start_time: noMillis(start), agenda: i % 3 === 0 ? `Agenda ${i}\n[vm:filler-${i}]` : `Agenda ${i}` }))
    ids.push(String(id))
  }
  return ids
}

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
  t.equal(stored.agenda, `${input.description}\n[vm:${input.requestId}]`, 'the description, then the request marker')
  t.equal(stored.password, 'Ab3@x_9*')
  t.equal(stored.settings.waiting_room, true)
  t.equal(stored.settings.join_before_host, false)
  t.equal(stored.settings.auto_recording, 'cloud')
  const body = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/users/me/meetings'))?.body as Record<string, unknown>
  t.match(String(body.start_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'start_time in UTC without milliseconds')
  t.equal((body.settings as Record<string, unknown>).meeting_authentication, false, 'external invitees can join without a Zoom sign-in, whatever the account default')

  t.equal(ref.joinUrl, stored.join_url)
  t.equal(ref.passcode, 'Ab3@x_9*')
  t.equal(ref.phonePasscode, stored.pstn_password, 'callers type the numeric pstn_password')
  t.match(ref.phonePasscode, /^\d+$/)
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
  t.equal(stored.agenda, `${later.description}\n[vm:${later.requestId}]`, 'an update keeps a marker')
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

t.test('a long description is cut so the agenda stays within 2000 characters with the marker whole', async (t) => {
  const c = await connect(fake, zoomProvider)
  const input = futureMeeting({ description: 'y'.repeat(2500) })
  const ref = await zoomProvider.meetings.create(c.api(), input, settings)
  const agenda: string = fake.meetings.get(ref.externalId).agenda
  t.equal(agenda.length, 2000)
  t.ok(agenda.endsWith(`\n[vm:${input.requestId}]`))
  const noDescription = futureMeeting({ description: '' })
  const bare = await zoomProvider.meetings.create(c.api(), noDescription, settings)
  t.equal(fake.meetings.get(bare.externalId).agenda, `[vm:${noDescription.requestId}]`)
})

t.test('find: the meeting a create made whose answer was lost', async (t) => {
  const c = await connect(fake, zoomProvider)
  const input = futureMeeting({ title: 'Lost answer', daysAhead: 20 })
  // More than two pages of 300 meetings come before it, among them look-alikes that are not ours.
  const fillers = addFillers(700, input.start)
  fake.meetings.set('81000000001', filler({ id: 81000000001, topic: input.title, start_time: noMillis(input.start), agenda: 'Talk.\n[vm:another-request]' }))
  fake.meetings.set('81000000002', filler({ id: 81000000002, topic: input.title, start_time: noMillis(input.start), agenda: 'z'.repeat(600) }))
  t.teardown(() => {
    for (const id of [...fillers, '81000000001', '81000000002']) fake.meetings.delete(id)
  })

  const made = await createWithLostAnswer(t, fake, c, input.requestId, (api) => zoomProvider.meetings.create(api, input, settings))
  const listsBefore = fake.count('/users/me/meetings', 'GET')
  const found = await zoomProvider.meetings.find!(c.api(), input)
  t.ok(found, 'found')
  t.equal(found?.externalId, String(made.id), 'the meeting the lost create made')
  t.equal(found?.joinUrl, made.join_url, 'with its join link')
  t.equal(found?.passcode, 'Ab3@x_9*', 'read in full: passcode and dial-in too')
  t.ok(found?.dialIn?.length)
  const lists = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/users/me/meetings')).slice(listsBefore)
  t.equal(lists.length, 3, 'all three pages read')
  t.same(lists.map((r) => r.query.page_size), ['300', '300', '300'])
  t.same(lists.map((r) => r.query.type), ['scheduled', 'scheduled', 'scheduled'])
  t.notOk(lists[0]?.query.next_page_token, 'the first page without a token')
  t.ok(lists[1]?.query.next_page_token && lists[2]?.query.next_page_token, 'the next pages with theirs')
  t.equal(fake.count('/meetings/81000000002', 'GET'), 0, 'look-alikes are not read once ours showed its marker in the list')
  t.equal(fake.count('/meetings/81000000001', 'GET'), 0)

  // The sync then updates the found meeting: still one meeting for the request.
  await zoomProvider.meetings.update(c.api(), found!, input, settings)
  t.equal(meetingsOfRequest(fake, input.requestId).length, 1, 'no second meeting')
})

t.test('find: a marker behind a long description is read from the meeting itself', async (t) => {
  const c = await connect(fake, zoomProvider)
  const input = futureMeeting({ title: 'Long agenda', description: 'w'.repeat(900) })
  const made = await createWithLostAnswer(t, fake, c, input.requestId, (api) => zoomProvider.meetings.create(api, input, settings))
  const found = await zoomProvider.meetings.find!(c.api(), input)
  t.equal(found?.externalId, String(made.id))
  t.equal(fake.count(`/meetings/${made.id}`, 'GET'), 1, 'read because the list cut the agenda at 250 characters')
})

t.test('find: null when no earlier create reached Zoom, and for another request', async (t) => {
  const c = await connect(fake, zoomProvider)
  const input = futureMeeting({ title: 'Never arrived' })
  fake.knobs.resetConnection = 'api'
  await rejectsWith(t, zoomProvider.meetings.create(c.api(), input, settings), 'retry', 'the connection is reset before Zoom sees the request')
  fake.reset()
  t.equal(meetingsOfRequest(fake, input.requestId).length, 0)
  // A look-alike (same topic and start) whose listed agenda is cut: read to be sure, and not taken.
  fake.meetings.set('81000000003', filler({ id: 81000000003, topic: input.title, start_time: noMillis(input.start), agenda: 'v'.repeat(600) }))
  t.teardown(() => fake.meetings.delete('81000000003'))
  t.equal(await zoomProvider.meetings.find!(c.api(), input), null)
  t.equal(fake.count('/meetings/81000000003', 'GET'), 1, 'the look-alike was read')

  const other = await zoomProvider.meetings.create(c.api(), futureMeeting({ title: 'Same title', description: 'Same.' }), settings)
  const stored = fake.meetings.get(other.externalId)
  const lookAlike = { ...futureMeeting({ title: 'Same title', description: 'Same.' }), start: new Date(Date.parse(stored.start_time)) }
  t.equal(await zoomProvider.meetings.find!(c.api(), lookAlike), null, 'same title and start, another request id: not ours')
  t.equal(await zoomProvider.meetings.find!(c.api(), { ...lookAlike, requestId: lookAlike.requestId.slice(0, -2) }), null)
})

t.test('find: list errors are classified; the list scope is asked for', async (t) => {
  const c = await connect(fake, zoomProvider)
  await checkFaults(t, fake, c, (api) => zoomProvider.meetings.find!(api, futureMeeting()), FAULTS.slice(0, 2))
  t.ok(zoomProvider.oauth?.requiredScopes.includes('meeting:read:list_meetings'))
  fake.knobs.dropScope = 'meeting:read:list_meetings'
  const narrow = await connect(fake, zoomProvider)
  fake.reset()
  const error = await rejectsWith(t, zoomProvider.meetings.find!(narrow.api(), futureMeeting()), 'reauth')
  t.equal(error.details.code, '4711')
  t.match(error.details.userMessage?.en, /meeting:read:list_meetings/)
})
