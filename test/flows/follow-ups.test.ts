import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { startZoomFake } from '../fakes/zoom.js'
import type { ProviderFake } from '../fakes/common.js'
import { addUser, Client, followUpForm, setUpAdmin, testApp } from '../helpers/app.js'
import { connectThroughFake } from '../helpers/configure.js'

const FORM = followUpForm()

interface World {
  app: FastifyInstance
  fake: ProviderFake
  admin: Client
  bob: Client
}

/** An installation whose organization uses Zoom (the fake), with a user Bob who has not connected yet. */
async function world(t: Test, env: Record<string, string> = {}): Promise<World> {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, { ...fake.env, PROVIDER_TIMEOUT_MS: '1000', ...env }, { startWorkers: false })
  const admin = await setUpAdmin(app)
  await connectThroughFake(app, admin, 'zoom')
  const bob = await addUser(app, admin, { name: 'Bob', email: 'bob@example.com' })
  return { app, fake, admin, bob }
}

/** Follows a redirect to the fake's sign-in and back, as the browser would; returns the final path. */
async function throughProvider(client: Client, location: string): Promise<string> {
  const res = await fetch(location, { redirect: 'manual' })
  const back = new URL(res.headers.get('location')!)
  const done = await client.get(back.pathname + back.search)
  return String(done.headers.location)
}

const lastMeeting = (fake: ProviderFake) => [...fake.meetings.values()].at(-1)

t.test('first use: the follow-up is saved, the user connects, the meeting is created right after', async (t) => {
  const { app, fake, bob } = await world(t)
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', FORM)
  t.equal(res.statusCode, 303)
  const location = String(res.headers.location)
  t.match(location, `${fake.url}/oauth/authorize?`, 'sent to the provider sign-in')
  const saved = app.db.prepare('SELECT id, title FROM follow_ups').all() as { id: number; title: string }[]
  t.same(saved.map((r) => r.title), ['Quarterly review'], 'saved before leaving for the provider')

  const landed = await throughProvider(bob, location)
  t.equal(landed, `/follow-ups/${saved[0]!.id}`)
  const page = await bob.get(landed)
  const meeting = lastMeeting(fake)
  t.ok(meeting, 'a meeting exists at Zoom')
  t.equal(meeting.topic, 'Quarterly review')
  t.equal(meeting.start_time, '2030-03-04T09:00:00Z', 'Amsterdam 10:00 is 09:00 UTC')
  t.equal(meeting.duration, 60)
  t.match(page.body, 'Join meeting')
  t.match(page.body, `value="${meeting.join_url}" readonly`)
  t.match(page.body, 'Copy link')
  t.match(page.body, `Connected to Zoom. Logged in as`)
  const f = app.services.followUps.getForUser(saved[0]!.id, app.services.users.findByEmailWithHash('bob@example.com')!.id)!
  t.equal(f.location, meeting.join_url, 'the link went into the empty Location')
  t.equal(f.meeting!.passcode, meeting.password)
  t.ok(f.meeting!.dialIn.length > 0, 'dial-in numbers kept')
  // Callers cannot type the alphanumeric passcode: Zoom's numeric pstn_password is shown beside it.
  t.match(page.body, new RegExp(`Passcode for phones and video systems</dt><dd>${meeting.pstn_password}</dd>`))
  const list = await bob.get('/follow-ups')
  t.match(list.body, 'Quarterly review')
  t.match(list.body, 'aria-label="Video meeting"', 'video icon in the list')
})

t.test('moving the follow-up updates the same meeting; video off deletes it; delete cancels it', async (t) => {
  const { app, fake, bob } = await world(t)
  await bob.get('/follow-ups/new')
  const first = await bob.post('/follow-ups', FORM)
  const landed = await throughProvider(bob, String(first.headers.location))
  const id = landed.split('/').pop()!
  const meeting = lastMeeting(fake)
  const link = meeting.join_url

  await bob.get(`/follow-ups/${id}/edit`)
  const moved = await bob.post(`/follow-ups/${id}`, { ...FORM, start: '2030-03-05T14:00', end: '', duration: '30', location: link })
  t.equal(moved.statusCode, 303)
  t.equal(fake.meetings.size, 1, 'no second meeting')
  t.equal(lastMeeting(fake).start_time, '2030-03-05T13:00:00Z')
  t.equal(lastMeeting(fake).duration, 30)
  t.match((await bob.get(`/follow-ups/${id}`)).body, `value="${link}" readonly`, 'same link')
  t.equal(fake.count(`/meetings/${meeting.id}`, 'PATCH'), 1)

  await bob.post(`/follow-ups/${id}`, { ...FORM, video: '' })
  t.equal(fake.count(`/meetings/${meeting.id}`, 'DELETE'), 1, 'video off deletes the meeting at Zoom')
  t.notMatch((await bob.get(`/follow-ups/${id}`)).body, 'Join meeting')

  await bob.post(`/follow-ups/${id}`, FORM)
  const again = lastMeeting(fake)
  t.not(again.id, meeting.id, 'video on again: a new meeting')
  await bob.get(`/follow-ups/${id}/delete`)
  t.equal((await bob.post(`/follow-ups/${id}/delete`)).statusCode, 303)
  t.equal(fake.count(`/meetings/${again.id}`, 'DELETE'), 1, 'deleting the follow-up deletes its meeting')
  t.equal((await bob.get(`/follow-ups/${id}`)).statusCode, 404)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM follow_ups').pluck().get(), 0, 'purged once the meeting is gone')
})

t.test('provider down: saved with "video link pending", retried, exactly one meeting', async (t) => {
  const { app, fake, bob } = await world(t)
  await bob.get('/preferences/video-meetings')
  const connect = await bob.post('/preferences/video-meetings/connect')
  await throughProvider(bob, String(connect.headers.location))
  fake.knobs.apiStatus = 503
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', FORM)
  const page = await bob.get(String(res.headers.location))
  t.match(page.body, 'Video link pending: Zoom answered with a server error, HTTP 503. We try again automatically; the follow-up is saved.')
  t.match(page.body, 'hx-trigger="every 3s"', 'the panel refreshes itself while pending')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM jobs').pluck().get(), 1)
  fake.knobs.apiStatus = null
  app.db.prepare('UPDATE jobs SET run_at = 0').run()
  await app.services.meetings.runDue()
  const after = await bob.get(String(res.headers.location))
  t.match(after.body, 'Join meeting')
  t.equal(fake.meetings.size, 1)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM jobs').pluck().get(), 0)
  const partial = await bob.get(String(res.headers.location), { 'hx-request': 'true' })
  t.match(partial.body, /^<section class="panel meeting" id="meeting"/)
  t.notMatch(partial.body, 'every 3s', 'ready: no more polling')
})

t.test('429 with Retry-After is honoured', async (t) => {
  const { app, fake, bob } = await world(t)
  const connect = await bob.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
  await throughProvider(bob, String(connect.headers.location))
  fake.knobs.apiStatus = 429
  fake.knobs.retryAfterSeconds = 120
  await bob.get('/follow-ups/new')
  const before = Date.now()
  await bob.post('/follow-ups', FORM)
  const runAt = app.db.prepare('SELECT run_at FROM jobs').pluck().get() as number
  t.ok(runAt - before >= 119_000, `next try after Retry-After (${Math.round((runAt - before) / 1000)} s)`)
})

t.test('revoked consent: needs reconnect shown, Reconnect keeps the same connection and creates the meeting', async (t) => {
  const { app, fake, bob } = await world(t)
  const connect = await bob.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
  await throughProvider(bob, String(connect.headers.location))
  const connectionId = app.db.prepare('SELECT id FROM user_connections').pluck().get()
  fake.revokeAll()
  fake.expireAccessTokensNow()
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', FORM)
  // Saved, found out the grant is gone, and sent the user straight to sign in again.
  t.match(String(res.headers.location), `${fake.url}/oauth/authorize?`)
  const url = `/follow-ups/${app.db.prepare('SELECT MAX(id) FROM follow_ups').pluck().get()}`
  const page = await bob.get(url)
  t.match(page.body, 'Your Zoom connection needs to be renewed')
  t.match(page.body, '>Reconnect<')
  t.match((await bob.get('/preferences/video-meetings')).body, 'Needs reconnect')
  t.equal(fake.meetings.size, 0)

  const reconnect = await bob.post('/preferences/video-meetings/connect', { returnTo: url })
  const landed = await throughProvider(bob, String(reconnect.headers.location))
  t.equal(landed, url)
  t.match((await bob.get(url)).body, 'Join meeting', 'the waiting meeting was created on return')
  t.equal(app.db.prepare('SELECT id FROM user_connections').pluck().get(), connectionId, 'same connection row')
  t.match((await bob.get('/preferences/video-meetings')).body, '>Connected<')
})

t.test('a user only ever reaches their own follow-ups', async (t) => {
  const { app, admin, bob } = await world(t)
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', { ...FORM, video: '' })
  const id = String(res.headers.location).split('/').pop()
  await admin.get('/follow-ups')
  for (const url of [`/follow-ups/${id}`, `/follow-ups/${id}/edit`, `/follow-ups/${id}/delete`]) t.equal((await admin.get(url)).statusCode, 404, `GET ${url}`)
  for (const url of [`/follow-ups/${id}`, `/follow-ups/${id}/delete`, `/follow-ups/${id}/retry`]) t.equal((await admin.post(url, FORM)).statusCode, 404, `POST ${url}`)
  t.notMatch((await admin.get('/follow-ups')).body, 'Quarterly review')
  t.equal(app.db.prepare('SELECT title FROM follow_ups').pluck().get(), 'Quarterly review', 'unchanged')
})

t.test('the form validates every field and keeps the input', async (t) => {
  const { app, bob } = await world(t)
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', { ...FORM, title: '', start: '2030-13-01T10:00', end: '2030-03-04T09:00', attendees: 'fine@example.com\nnot an email', timeZone: 'Nowhere' })
  t.equal(res.statusCode, 422)
  t.match(res.body, /id="f-title-error">Fill in this field\./)
  t.match(res.body, /id="f-start-error">Enter a date and time/)
  t.match(res.body, /id="f-attendees-error">Not a valid email address: not an email/)
  t.match(res.body, /id="f-timeZone-error">Choose a time zone from the list\./)
  t.match(res.body, 'fine@example.com\nnot an email</textarea>', 'input kept')
  const order = await bob.post('/follow-ups', { ...FORM, end: '2030-03-04T09:00' })
  t.match(order.body, 'The end must be after the start.')
  const gap = await bob.post('/follow-ups', { ...FORM, start: '2030-03-31T02:30', end: '', duration: '30' })
  t.match(gap.body, 'This time does not exist in the chosen time zone')
  const none = await bob.post('/follow-ups', { ...FORM, end: '', duration: '' })
  t.match(none.body, 'Enter an end time or a duration.')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM follow_ups').pluck().get(), 0, 'nothing saved')
})

t.test('without an organization provider nothing video-related shows', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const admin = await setUpAdmin(app)
  const form = await admin.get('/follow-ups/new')
  t.notMatch(form.body, 'name="video"')
  const res = await admin.post('/follow-ups', { ...FORM, video: 'true' })
  t.equal(res.statusCode, 303)
  const page = await admin.get(String(res.headers.location))
  t.notMatch(page.body, 'Video meeting')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM meetings').pluck().get(), 0)
})

t.test('Jitsi: no per-user connection, an unguessable link from the pattern', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const admin = await setUpAdmin(app)
  await admin.submit('/settings/video-meetings/configure', '/settings/video-meetings/configure/jitsi', {})
  await admin.get('/follow-ups/new')
  const res = await admin.post('/follow-ups', FORM)
  const page = await admin.get(String(res.headers.location))
  const link = /id="meeting-link" type="text" value="([^"]+)"/.exec(page.body)?.[1]
  t.match(link, /^https:\/\/meet\.jit\.si\/[A-Za-z0-9-]+$/)
  t.ok(link!.split('/').pop()!.length >= 20, 'long, random room name')
})

t.test('reconnecting as another account asks first; Manage users lists and removes connections', async (t) => {
  const { app, fake, admin, bob } = await world(t)
  const connect = await bob.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
  await throughProvider(bob, String(connect.headers.location))
  fake.user = { ...fake.user, id: 'other-zoom-user', email: 'bob.private@example.net', first_name: 'Bobby' }
  const again = await bob.post('/preferences/video-meetings/connect')
  const landed = await throughProvider(bob, String(again.headers.location))
  t.equal(landed, '/preferences/video-meetings/replace')
  const confirm = await bob.get(landed)
  t.match(confirm.body, 'Replace your Zoom account?')
  t.match(confirm.body, 'bob.private@example.net')
  t.equal(app.db.prepare('SELECT account_email FROM user_connections').pluck().get(), 'jill.chill@example.com', 'not replaced yet')
  await bob.post(landed, { decision: 'replace' })
  t.equal(app.db.prepare('SELECT account_email FROM user_connections').pluck().get(), 'bob.private@example.net')
  t.equal((await bob.post(landed, { decision: 'replace' })).headers.location, '/preferences/video-meetings', 'a held sign-in is used once')

  // Signing in as yet another account, then keeping the current one, changes nothing and revokes the other.
  fake.user = { ...fake.user, id: 'third-zoom-user', email: 'third@example.net' }
  const third = await bob.post('/preferences/video-meetings/connect')
  await throughProvider(bob, String(third.headers.location))
  const revokesBeforeKeep = fake.count('revoke', 'POST')
  await bob.post('/preferences/video-meetings/replace', { decision: 'keep' })
  t.equal(app.db.prepare('SELECT account_email FROM user_connections').pluck().get(), 'bob.private@example.net')
  t.equal(fake.count('revoke', 'POST'), revokesBeforeKeep + 1, 'the unused sign-in is revoked')
  t.match((await bob.get('/preferences/video-meetings')).body, 'Nothing was changed: your connection still uses bob.private@example.net.')

  const list = await admin.get('/settings/video-meetings/users')
  t.match(list.body, 'Bob')
  t.match(list.body, 'bob.private@example.net')
  const id = app.db.prepare('SELECT id FROM user_connections').pluck().get()
  const revokes = fake.count('revoke', 'POST')
  t.equal((await admin.post(`/settings/video-meetings/users/${id}/remove`)).statusCode, 303)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM user_connections').pluck().get(), 0)
  t.equal(fake.count('revoke', 'POST'), revokes + 1, 'revoked at Zoom')
  t.equal((await bob.get('/settings/video-meetings/users')).statusCode, 403)
})

t.test('follow-up types: admins manage them; video on by default follows the type', async (t) => {
  const { admin, bob } = await world(t)
  await admin.get('/settings/follow-up-types')
  t.equal((await admin.post('/settings/follow-up-types', { name: 'Demo', videoDefault: 'true' })).statusCode, 303)
  const dup = await admin.post('/settings/follow-up-types', { name: 'demo' })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'A type with this name exists already.')
  t.match((await admin.get('/settings/follow-up-types')).body, 'value="Demo"')
  t.equal((await bob.get('/settings/follow-up-types')).statusCode, 403)
  const form = await bob.get('/follow-ups/new')
  t.match(form.body, 'name="video" type="checkbox" value="true" checked', 'the first type (Meeting) has video on by default')
})

t.test('50 concurrent meeting creations with an expired access token: exactly one refresh', async (t) => {
  // A generous timeout: 50 creations at once on a loaded CI machine are slow, and this is about refreshes.
  const { app, fake, bob } = await world(t, { PROVIDER_TIMEOUT_MS: '20000' })
  const connect = await bob.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
  await throughProvider(bob, String(connect.headers.location))
  const user = app.services.users.findById(app.services.users.findByEmailWithHash('bob@example.com')!.id)!
  fake.expireAccessTokensNow()
  fake.knobs.tokenDelayMs = 300
  const refreshesBefore = fake.requests.filter((r) => r.path.endsWith('/oauth/token') && (r.body as Record<string, string>).grant_type === 'refresh_token').length
  // 50 saves at once, each trying its meeting at once (as a save does), all on the expired token.
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      app.services.followUpService.create(
        user,
        { typeId: null, title: `Meeting ${i}`, startsAt: `2030-04-01T${String(8 + (i % 10)).padStart(2, '0')}:00:00.000Z`, endsAt: `2030-04-01T${String(9 + (i % 10)).padStart(2, '0')}:00:00.000Z`, timeZone: 'UTC', location: '', description: '', video: true, attendees: [] },
        { sendInvitations: false },
      ),
    ),
  )
  // A sync that outlived its save's budget goes on in the background: wait for all of them.
  const ready = () => app.db.prepare("SELECT COUNT(*) FROM meetings WHERE state = 'ready'").pluck().get() as number
  for (let waited = 0; ready() < 50 && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
  const refreshes = fake.requests.filter((r) => r.path.endsWith('/oauth/token') && (r.body as Record<string, string>).grant_type === 'refresh_token').length
  t.equal(refreshes - refreshesBefore, 1, 'exactly one refresh reached the token endpoint')
  t.equal(fake.meetings.size, 50, 'every meeting created once')
  t.equal(app.db.prepare("SELECT COUNT(*) FROM meetings WHERE state = 'ready'").pluck().get(), 50)
})
