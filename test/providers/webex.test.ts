import t from 'tap'
import { webexProvider } from '../../src/providers/webex/adapter.js'
import { webexPassword } from '../../src/providers/webex/settings.js'
import { startWebexFake } from '../fakes/webex.js'
import type { ApiClient } from '../../src/providers/contract.js'
import { asForm, checkFaults, connect, createWithLostAnswer, futureMeeting, meetingsOfRequest, rejectsWith } from './helpers.js'

const fake = await startWebexFake()
t.teardown(() => fake.close())
const settings = { password: 'Renew2030x', joinBeforeHost: true }
const noMillis = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

t.test('the OAuth spec', async (t) => {
  const oauth = webexProvider.oauth
  t.equal(oauth?.clientAuth, 'body')
  t.same(oauth?.scopes, ['spark:people_read', 'meeting:schedules_read', 'meeting:schedules_write'])
  const c = await connect(fake, webexProvider)
  t.equal(c.tokenResponse.scope, undefined, 'Webex lists no scope: the requiredScopes check is skipped')
  t.match(oauth?.registrationHelp.en, /meeting:schedules_write/)
})

t.test('identity from people/me', async (t) => {
  const c = await connect(fake, webexProvider)
  t.same(await webexProvider.identity(c.api(), c.endpoints, c.tokenResponse), { accountId: fake.user.id, name: 'Wendy Webex', email: 'wendy.webex@example.com' })
})

t.test('settings', async (t) => {
  const s = webexProvider.settings
  t.test('defaults are valid and the password is random', async (t) => {
    const a = s.defaults()
    t.not(a.password, s.defaults().password)
    t.same(s.parse(asForm(a), 'en').errors, {})
    t.equal(a.joinBeforeHost, false)
    for (let i = 0; i < 200; i++) {
      const password = webexPassword()
      t.equal(s.parse({ password }, 'en').errors.password, undefined, `${password} is valid`)
      if (!/^[A-Za-z0-9].*[@#].*[A-Za-z0-9]$/.test(password)) t.fail(`${password}: a special character inside, never at an end`)
    }
  })
  t.test('good values', async (t) => {
    t.same(s.parse({ password: 'Renew2030x', joinBeforeHost: 'on' }, 'en'), { settings: { password: 'Renew2030x', joinBeforeHost: true }, errors: {} })
    t.same(s.parse({ password: 'Gw@Lqa78' }, 'en').settings, { password: 'Gw@Lqa78', joinBeforeHost: false })
  })
  t.test('each validation error, in the asked language', async (t) => {
    t.equal(s.parse({}, 'en').errors.password, 'Fill in this field.')
    t.equal(s.parse({ password: 'Ab1cdef' }, 'en').errors.password, 'Use 8 to 32 characters.')
    t.equal(s.parse({ password: `Ab1${'x'.repeat(30)}` }, 'nl').errors.password, 'Gebruik 8 tot 32 tekens.')
    t.equal(s.parse({ password: 'abcdefg1' }, 'en').errors.password, 'Use at least one capital letter, one small letter and one digit.')
    t.equal(s.parse({ password: 'ABCDEFG1' }, 'en').errors.password, 'Use at least one capital letter, one small letter and one digit.')
    t.equal(s.parse({ password: 'Abcdefgh' }, 'nl').errors.password, 'Gebruik minstens één hoofdletter, één kleine letter en één cijfer.')
    t.match(s.parse({ password: 'Abc 1234' }, 'en').errors.password, /Leave out spaces/)
    t.match(s.parse({ password: 'Abc<1234>' }, 'nl').errors.password, /Laat spaties/)
  })
})

t.test('create, update, delete', async (t) => {
  const c = await connect(fake, webexProvider)
  const api = c.api()
  const input = futureMeeting()
  const ref = await webexProvider.meetings.create(api, input, settings)
  const stored = fake.meetings.get(ref.externalId)
  t.ok(stored)
  t.equal(stored.title, input.title)
  t.equal(stored.agenda, `${input.description}\n[vm:${input.requestId}]`, 'the description, then the request marker')
  t.same(stored.integrationTags, [input.requestId], 'tagged with the request id')
  t.equal(stored.start, noMillis(input.start))
  t.equal(stored.end, noMillis(input.end))
  t.equal(stored.timezone, 'Europe/Amsterdam')
  t.equal(stored.password, 'Renew2030x')
  t.equal(stored.enabledJoinBeforeHost, true)
  t.equal(stored.sendEmail, false, 'Webex mails nobody: invitations are ours')
  t.equal(ref.joinUrl, stored.webLink)
  t.equal(ref.passcode, 'Renew2030x')
  t.match(ref.phonePasscode, /^\d+$/, 'the digits phones and video systems type')
  t.equal(ref.phonePasscode, stored.phoneAndVideoSystemPassword)
  t.same(ref.dialIn, [
    { number: '+1-415-655-0002', label: 'United States Toll', pin: stored.telephony.accessCode },
    { number: '+1-855-555-0199', label: 'United States Toll Free', pin: stored.telephony.accessCode },
  ])

  const later = futureMeeting({ title: 'Moved', daysAhead: 6, minutes: 60 })
  const updated = await webexProvider.meetings.update(api, ref, later, { ...settings, joinBeforeHost: false, password: 'Other2030y' })
  t.equal(updated.joinUrl, ref.joinUrl, 'the join link stays the same')
  t.equal(updated.passcode, 'Other2030y')
  t.equal(stored.title, 'Moved')
  t.equal(stored.start, noMillis(later.start))
  t.equal(stored.end, noMillis(later.end))
  t.equal(stored.enabledJoinBeforeHost, false)
  t.notOk(fake.requests.some((r) => r.method === 'PUT'), 'no PUT: Webex says it will be deprecated')
  const patch = fake.requests.find((r) => r.method === 'PATCH')
  t.match(patch?.body, { title: 'Moved', password: 'Other2030y', start: noMillis(later.start), end: noMillis(later.end), enabledJoinBeforeHost: false, sendEmail: false })
  t.notOk(patch && 'timezone' in (patch.body as object), 'only what changed: the time zone did not')
  t.same(stored.integrationTags, [later.requestId], 'the tag follows the request')
  t.equal(stored.agenda, `${later.description}\n[vm:${later.requestId}]`, 'and the marker')
  const unchanged = fake.requests.filter((r) => r.method === 'PATCH').length
  await webexProvider.meetings.update(api, ref, later, { ...settings, joinBeforeHost: false, password: 'Other2030y' })
  t.equal(fake.requests.filter((r) => r.method === 'PATCH').length, unchanged, 'nothing changed: nothing sent')

  await webexProvider.meetings.delete(api, ref)
  t.notOk(fake.meetings.has(ref.externalId))
  t.equal(fake.requests.at(-1)?.query.sendEmail, 'false')
  await webexProvider.meetings.delete(api, ref)
  t.pass('deleting twice is fine')
})

t.test('a meeting that has started keeps its start; the rest of the change goes through, and the answer says so', async (t) => {
  const c = await connect(fake, webexProvider)
  const api = c.api()
  const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 60_000)
  const input = { ...futureMeeting(), start, end: new Date(start.getTime() + 30 * 60_000) }
  const ref = await webexProvider.meetings.create(api, input, settings)
  const moved = { ...input, title: 'Running late', start: new Date(start.getTime() + 3600_000), end: new Date(start.getTime() + 2 * 3600_000) }
  const updated = await webexProvider.meetings.update(api, ref, moved, settings)
  const stored = fake.meetings.get(ref.externalId)
  t.equal(stored.start, noMillis(start), 'the start stays (Webex refuses a start before now)')
  t.equal(stored.end, noMillis(moved.end), 'the end moved')
  t.equal(stored.title, 'Running late')
  t.match(updated.kept, { code: 'start_kept', provider: 'Webex' })
})

t.test('a meeting shorter than Webex’s 10 minutes is stretched at Webex only', async (t) => {
  const c = await connect(fake, webexProvider)
  const input = futureMeeting({ minutes: 5 })
  const ref = await webexProvider.meetings.create(c.api(), input, settings)
  t.equal(fake.meetings.get(ref.externalId).end, noMillis(new Date(input.start.getTime() + 10 * 60_000)))
})

t.test('errors are classified', async (t) => {
  const c = await connect(fake, webexProvider)
  await checkFaults(t, fake, c, (api) => webexProvider.meetings.create(api, futureMeeting(), settings))
  const ref = await webexProvider.meetings.create(c.api(), futureMeeting(), settings)
  await checkFaults(t, fake, c, (api) => webexProvider.meetings.update(api, ref, futureMeeting(), settings))
  await rejectsWith(t, webexProvider.meetings.create(c.api(), futureMeeting({ daysAhead: -1 }), settings), 'fail', 'a meeting in the past')
})

const utcEnd = (m: { end: Date }) => m.end.toISOString().replace(/\.\d{3}Z$/, 'Z')

t.test('423 Locked with Retry-After is temporary: retried after the time Webex asks', async (t) => {
  const c = await connect(fake, webexProvider)
  fake.reset()
  Object.assign(fake.knobs, { apiStatus: 423, retryAfterSeconds: 7 })
  const error = await rejectsWith(t, webexProvider.meetings.create(c.api(), futureMeeting(), settings), 'retry', 'not a permanent failure')
  t.equal(error.details.retryAfterMs, 7000)
  fake.reset()
})

t.test('a meeting over 23 hours 59 minutes is refused before the call, with words the user can act on', async (t) => {
  const c = await connect(fake, webexProvider)
  fake.reset()
  const long = futureMeeting({ minutes: 24 * 60 })
  const posts = () => fake.requests.filter((r) => r.path.endsWith('/meetings') && r.method === 'POST').length
  const before = posts()
  const error = await rejectsWith(t, webexProvider.meetings.create(c.api(), long, settings), 'fail', 'create')
  t.match(error.reason, { code: 'too_long', provider: 'Webex' })
  t.match(error.message, /longer than 23 hours and 59 minutes/)
  const ref = await webexProvider.meetings.create(c.api(), futureMeeting({ minutes: 23 * 60 + 59 }), settings)
  t.ok(ref.externalId, '23 h 59 min is fine')
  await rejectsWith(t, webexProvider.meetings.update(c.api(), ref, long, settings), 'fail', 'update')
  t.equal(posts() - before, 1, 'only the 23 h 59 min one reached Webex')
  t.notOk(fake.requests.some((r) => r.method === 'PUT' && r.path.endsWith(ref.externalId) && String((r.body as { end?: string }).end) === utcEnd(long)), 'nor the long update')
})

t.test('a grant without meeting:schedules_write explains itself', async (t) => {
  fake.knobs.dropScope = 'meeting:schedules_write'
  const c = await connect(fake, webexProvider)
  fake.reset()
  const error = await rejectsWith(t, webexProvider.meetings.create(c.api(), futureMeeting(), settings), 'fail')
  t.equal(error.details.status, 403)
  t.match(error.details.userMessage?.en, /meeting:schedules_write/)
})

let fillerSeq = 0
/** A meeting series as Webex keeps it, for filling the fake's list. */
function filler(start: Date, over: Record<string, unknown> = {}): Record<string, unknown> {
  const id = `filler${(fillerSeq++).toString().padStart(6, '0')}`
  return {
    id,
    meetingNumber: '12345678901',
    title: 'Another meeting',
    agenda: '',
    password: 'Other2030z',
    meetingType: 'meetingSeries',
    state: 'active',
    timezone: 'UTC',
    start: noMillis(start),
    end: noMillis(new Date(start.getTime() + 30 * 60_000)),
    hostUserId: fake.user.id,
    webLink: `https://fake-example.webex.com/fake/j.php?MTID=${id}`,
    integrationTags: [],
    ...over,
  }
}

t.test('find: the meeting a create made whose answer was lost, among more than a page of meetings', async (t) => {
  const c = await connect(fake, webexProvider)
  const input = futureMeeting({ title: 'Lost answer', daysAhead: 10 })
  const ids: string[] = []
  for (let i = 0; i < 250; i++) {
    const m = filler(new Date(input.start.getTime() - (i + 1) * 3_600_000), i % 2 ? { integrationTags: [`other-${i}`] } : { agenda: `x\n[vm:other-${i}]` })
    fake.meetings.set(String(m.id), m)
    ids.push(String(m.id))
  }
  const lookAlike = filler(input.start, { title: input.title, agenda: 'Talk about the renewal.\n[vm:another-request]', integrationTags: ['another-request'] })
  fake.meetings.set(String(lookAlike.id), lookAlike)
  t.teardown(() => {
    for (const id of [...ids, String(lookAlike.id)]) fake.meetings.delete(id)
  })

  const made = await createWithLostAnswer(t, fake, c, input.requestId, (api) => webexProvider.meetings.create(api, input, settings))
  const before = fake.requests.length
  const found = await webexProvider.meetings.find!(c.api(), input)
  t.equal(found?.externalId, made.id, 'the meeting the lost create made')
  t.equal(found?.joinUrl, made.webLink, 'with its join link')
  t.equal(found?.passcode, 'Renew2030x')
  const lists = fake.requests.slice(before).filter((r) => r.method === 'GET' && r.path === '/v1/meetings')
  t.equal(lists.length, 1, 'the integrationTag filter makes one page enough')
  t.match(lists[0]?.query, { meetingType: 'meetingSeries', integrationTag: input.requestId, max: '100' })
  t.ok(Date.parse(lists[0]?.query.from ?? '') < input.start.getTime() && Date.parse(lists[0]?.query.to ?? '') > input.end.getTime(), 'a window around the start')

  await webexProvider.meetings.update(c.api(), found!, input, settings)
  t.equal(meetingsOfRequest(fake, input.requestId).length, 1, 'no second meeting')
})

t.test('find: null when no earlier create reached Webex, and for another request', async (t) => {
  const c = await connect(fake, webexProvider)
  const input = futureMeeting({ title: 'Never arrived' })
  fake.knobs.resetConnection = 'api'
  await rejectsWith(t, webexProvider.meetings.create(c.api(), input, settings), 'retry', 'reset before Webex sees the request')
  fake.reset()
  t.equal(meetingsOfRequest(fake, input.requestId).length, 0)
  t.equal(await webexProvider.meetings.find!(c.api(), input), null)
  const other = futureMeeting({ title: 'Never arrived' })
  await webexProvider.meetings.create(c.api(), { ...other, start: input.start, end: input.end }, settings)
  t.equal(await webexProvider.meetings.find!(c.api(), input), null, 'same title and times, another request id: not ours')
  t.equal(await webexProvider.meetings.find!(c.api(), { ...input, requestId: other.requestId.slice(0, -2) }), null, 'a prefix of a request id is another one')
})

t.test('find: a listed meeting counts only when it carries the tag or the marker; full pages are narrowed', async (t) => {
  // A server that ignores integrationTag and answers every series in the window, 100 at most (the Link
  // header with the rest is out of ApiClient's reach).
  const input = futureMeeting({ title: 'Busy calendar' })
  const series = Array.from({ length: 400 }, (_, i) => filler(new Date(input.start.getTime() + (i - 200) * 3 * 3_600_000)))
  const ours = filler(new Date(input.start.getTime() + 5 * 86_400_000), { agenda: `Talk\n[vm:${input.requestId}]` })
  const calls: Record<string, string>[] = []
  const api = (all: Record<string, unknown>[]): ApiClient => ({
    request: async <T>(_method: string, _path: string, _body?: unknown, query?: Record<string, string>) => {
      calls.push(query ?? {})
      const from = Date.parse(query?.from ?? '')
      const to = Date.parse(query?.to ?? '')
      const items = all.filter((m) => Date.parse(String(m.start)) < to && Date.parse(String(m.end)) > from).slice(0, Number(query?.max))
      return { status: 200, body: { items } as T }
    },
  })
  const found = await webexProvider.meetings.find!(api([...series, ours]), input)
  t.equal(found?.externalId, ours.id, 'found by its agenda marker in a narrowed window')
  t.ok(calls.length > 1 && calls.length <= 31, `${calls.length} list calls`)
  calls.length = 0
  t.equal(await webexProvider.meetings.find!(api(series), input), null, 'none of them carries the tag or marker')
  t.ok(calls.length <= 31, `bounded: ${calls.length} list calls`)
  const tagged = filler(new Date(input.start.getTime() - 86_400_000), { integrationTags: ['x', input.requestId] })
  t.equal((await webexProvider.meetings.find!(api([tagged]), input))?.externalId, tagged.id, 'or by its integration tag')
})

t.test('find: list errors are classified', async (t) => {
  const c = await connect(fake, webexProvider)
  await checkFaults(t, fake, c, (api) => webexProvider.meetings.find!(api, futureMeeting()))
})

t.test('the Webex fake pages List Meetings through the Link header', async (t) => {
  const c = await connect(fake, webexProvider)
  const start = new Date(Date.now() + 40 * 86_400_000)
  const ids: string[] = []
  for (let i = 0; i < 130; i++) {
    const m = filler(new Date(start.getTime() + i * 3_600_000), { integrationTags: ['paging'] })
    fake.meetings.set(String(m.id), m)
    ids.push(String(m.id))
  }
  t.teardown(() => ids.forEach((id) => fake.meetings.delete(id)))
  const get = (url: string) => fetch(url, { headers: { authorization: `Bearer ${c.accessToken}` } })
  const query = new URLSearchParams({ integrationTag: 'paging', from: noMillis(start), to: noMillis(new Date(start.getTime() + 30 * 86_400_000)), max: '100' })
  const first = await get(`${c.endpoints.apiUrl}/meetings?${query}`)
  t.equal(((await first.json()) as { items: unknown[] }).items.length, 100)
  const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link') ?? '')?.[1]
  t.ok(next, 'a next link')
  const second = await get(next!)
  t.equal(((await second.json()) as { items: unknown[] }).items.length, 30)
  t.equal(second.headers.get('link'), null, 'no link after the last page')
  t.equal((await get(`${c.endpoints.apiUrl}/meetings?from=2030-02-01T00:00:00Z&to=2030-01-01T00:00:00Z`)).status, 400, 'from after to')
})
