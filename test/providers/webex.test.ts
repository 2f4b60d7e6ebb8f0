import t from 'tap'
import { webexPassword, webexProvider } from '../../src/providers/webex.js'
import { startWebexFake } from '../fakes/webex.js'
import { asForm, checkFaults, connect, futureMeeting, rejectsWith } from './helpers.js'

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
  t.equal(stored.agenda, input.description)
  t.equal(stored.start, noMillis(input.start))
  t.equal(stored.end, noMillis(input.end))
  t.equal(stored.timezone, 'Europe/Amsterdam')
  t.equal(stored.password, 'Renew2030x')
  t.equal(stored.enabledJoinBeforeHost, true)
  t.equal(stored.sendEmail, false, 'Webex mails nobody: invitations are ours')
  t.equal(ref.joinUrl, stored.webLink)
  t.equal(ref.passcode, 'Renew2030x')
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
  const put = fake.requests.find((r) => r.method === 'PUT')
  t.ok(put, 'a full replace with PUT')
  t.match(put?.body, { title: 'Moved', password: 'Other2030y', start: noMillis(later.start), end: noMillis(later.end), timezone: 'Europe/Amsterdam' })

  await webexProvider.meetings.delete(api, ref)
  t.notOk(fake.meetings.has(ref.externalId))
  t.equal(fake.requests.at(-1)?.query.sendEmail, 'false')
  await webexProvider.meetings.delete(api, ref)
  t.pass('deleting twice is fine')
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

t.test('a grant without meeting:schedules_write explains itself', async (t) => {
  fake.knobs.dropScope = 'meeting:schedules_write'
  const c = await connect(fake, webexProvider)
  fake.reset()
  const error = await rejectsWith(t, webexProvider.meetings.create(c.api(), futureMeeting(), settings), 'fail')
  t.equal(error.details.status, 403)
  t.match(error.details.userMessage?.en, /meeting:schedules_write/)
})
