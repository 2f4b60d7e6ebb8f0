import net from 'node:net'
import t, { type Test } from 'tap'
import ICAL from 'ical.js'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { startSmtpFake, type ReceivedMail, type SmtpFake } from '../fakes/smtp.js'
import { addUser, Client, setUpAdmin, tempDir } from '../helpers/app.js'

const SMTP_USER = { user: 'bob-smtp', pass: 'CANARY-smtp-password' }

const FORM = {
  title: 'Kick-off',
  typeId: '',
  start: '2030-05-06T15:00',
  end: '2030-05-06T16:30',
  duration: '',
  timeZone: 'Europe/Amsterdam',
  location: '',
  description: 'Agenda follows',
  attendees: 'anna@extern.example\nbert@extern.example',
  video: 'true',
  sendInvitations: 'true',
}

interface World {
  app: FastifyInstance
  bob: Client
  smtp: SmtpFake
  dataDir: string
}

async function build(t: Test, dataDir: string): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', SMTP_TIMEOUT_MS: '1500' }), { startWorkers: false })
  t.teardown(() => app.close())
  return app
}

/** Jitsi as the organization's provider (links at once), Bob with his own SMTP settings pointing at the fake. */
async function world(t: Test): Promise<World> {
  const smtp = await startSmtpFake({ auth: SMTP_USER })
  t.teardown(() => smtp.close())
  const dataDir = tempDir(t)
  const app = await build(t, dataDir)
  const admin = await setUpAdmin(app)
  await admin.submit('/settings/video-meetings/configure', '/settings/video-meetings/configure/jitsi', {})
  const bob = await addUser(app, admin, { name: 'Bob Organizer', email: 'bob@example.com' })
  await bob.get('/preferences/email')
  const saved = await bob.post('/preferences/email', mailForm(smtp.port))
  if (saved.statusCode !== 303) throw new Error(`saving email settings: ${saved.statusCode}`)
  return { app, bob, smtp, dataDir }
}

function mailForm(port: number, extra: Record<string, string> = {}) {
  return { host: '127.0.0.1', port: String(port), security: 'none', username: SMTP_USER.user, password: SMTP_USER.pass, fromName: 'Bob Organizer', fromAddress: 'bob@example.com', action: 'save', ...extra }
}

function calendarOf(mail: ReceivedMail): ICAL.Component {
  const part = mail.parsed.attachments.find((a) => a.contentType.startsWith('application/ics') || a.contentType.startsWith('text/calendar'))
  if (!part) throw new Error('no calendar part')
  return new ICAL.Component(ICAL.parse(part.content.toString('utf8')))
}

async function send(app: FastifyInstance): Promise<void> {
  app.db.prepare('UPDATE outbox SET next_attempt_at = 0').run()
  await app.services.mail.mailer.runDue()
}

t.test('Preferences → Email: password write-only, test email with the server’s exact answer, input kept', async (t) => {
  const { app, bob, smtp } = await world(t)
  const page = await bob.get('/preferences/email')
  t.match(page.body, 'Your own email settings are in effect.')
  t.notMatch(page.body, SMTP_USER.pass, 'the password is never shown')
  t.match(page.body, 'A password is set.')
  t.notMatch(JSON.stringify(app.db.prepare('SELECT * FROM mail_settings').all()), SMTP_USER.pass, 'stored encrypted')

  const ok = await bob.post('/preferences/email', mailForm(smtp.port, { action: 'test', password: '' }))
  t.equal(ok.statusCode, 200)
  t.match(ok.body, 'The test email to bob@example.com was accepted by the server')
  const [mail] = await smtp.waitFor(1)
  t.equal(mail!.to[0], 'bob@example.com')

  const wrong = await bob.post('/preferences/email', mailForm(smtp.port, { action: 'test', password: 'wrong password' }))
  t.equal(wrong.statusCode, 422)
  t.match(wrong.body, 'The test email to bob@example.com could not be sent. Authentication failed: the server refused the user name or password.')
  t.match(wrong.body, 'The server&#39;s answer: 535 Invalid username or password', 'the server’s exact answer, verbatim')
  t.match(wrong.body, 'value="127.0.0.1"', 'input kept')

  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
  t.match((await bob.post('/preferences/email', mailForm(closed, { action: 'test' }))).body, `Connection refused: nothing accepts connections at that host and port (connect ECONNREFUSED 127.0.0.1:${closed}).`)

  const silent = net.createServer(() => {}).listen(0, '127.0.0.1')
  await new Promise((r) => silent.once('listening', r))
  t.teardown(() => silent.close())
  const slow = await bob.post('/preferences/email', mailForm((silent.address() as net.AddressInfo).port, { action: 'test' }))
  t.match(slow.body, 'The server did not answer in time: it took the connection but never sent its greeting.')

  const tls = await bob.post('/preferences/email', mailForm(smtp.port, { action: 'test', security: 'tls', host: 'localhost' }))
  t.match(tls.body, 'TLS failure: the secure connection could not be set up (')
  for (const body of [wrong.body, slow.body, tls.body]) t.notMatch(body, /&quot;code&quot;/, 'never the stored JSON')

  const insecure = await bob.post('/preferences/email', mailForm(smtp.port, { host: 'smtp.example.com' }))
  t.equal(insecure.statusCode, 422)
  t.match(insecure.body, 'Without TLS, mail (and your password) would cross the network unencrypted')
})

t.test('invitation: MIME parts and an iCalendar REQUEST with every property, through the user’s own server', async (t) => {
  const { app, bob, smtp } = await world(t)
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', FORM)
  t.equal(res.statusCode, 303)
  await send(app)
  const mails = await smtp.waitFor(2)
  t.same(mails.map((m) => m.to[0]).sort(), ['anna@extern.example', 'bert@extern.example'])
  const mail = mails[0]!
  const f = app.db.prepare('SELECT id, ical_uid FROM follow_ups').get() as { id: number; ical_uid: string }
  const link = app.db.prepare('SELECT join_url FROM meetings').pluck().get() as string
  t.match(mail.parsed.subject, /^Invitation: Kick-off – Monday, 6 May 2030, 15:00 – 16:30 \(Europe\/Amsterdam\)$/)
  t.equal(mail.parsed.from?.value[0]?.address, 'bob@example.com')
  t.match(mail.parsed.text, link, 'join link in the text part')
  t.match(mail.parsed.html || '', `href="${link}"`, 'Join meeting button in the HTML part')
  t.match(mail.raw, /Content-Type: text\/calendar; charset=utf-8; method=REQUEST/i, 'a text/calendar; method=REQUEST part')
  const vcalendar = calendarOf(mail)
  t.equal(vcalendar.getFirstPropertyValue('method'), 'REQUEST')
  const vevent = vcalendar.getFirstSubcomponent('vevent')!
  t.equal(vevent.getFirstPropertyValue('uid'), f.ical_uid)
  t.equal(vevent.getFirstPropertyValue('sequence'), 0)
  t.ok(vevent.getFirstPropertyValue('dtstamp'))
  t.equal((vevent.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString(), '2030-05-06T13:00:00.000Z')
  t.equal((vevent.getFirstPropertyValue('dtend') as ICAL.Time).toJSDate().toISOString(), '2030-05-06T14:30:00.000Z')
  t.match(String(vevent.getFirstPropertyValue('organizer')), 'mailto:bob@example.com')
  const attendees = vevent.getAllProperties('attendee')
  t.equal(attendees.length, 2)
  t.equal(attendees[0]!.getParameter('rsvp'), 'TRUE')
  t.equal(vevent.getFirstPropertyValue('location'), link, 'empty Location got the link')
  t.equal(vevent.getFirstPropertyValue('url'), link)
  t.match(String(vevent.getFirstPropertyValue('description')), link)
  t.equal(vevent.getFirstPropertyValue('summary'), 'Kick-off')

  const page = await bob.get(`/follow-ups/${f.id}`)
  t.match(page.body, 'anna@extern.example · <span class="delivery delivery-sent">invitation: sent</span>')
})

t.test('changes send updates (same UID, higher SEQUENCE); removing an attendee cancels for them; delete cancels for all', async (t) => {
  const { app, bob, smtp } = await world(t)
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', FORM)
  const url = String(res.headers.location)
  await send(app)
  await smtp.waitFor(2)
  const uid = app.db.prepare('SELECT ical_uid FROM follow_ups').pluck().get()

  await bob.get(`${url}/edit`)
  await bob.post(url, { ...FORM, start: '2030-05-07T09:00', end: '2030-05-07T10:00', attendees: 'anna@extern.example', location: app.db.prepare('SELECT location FROM follow_ups').pluck().get() as string })
  await send(app)
  const after = await smtp.waitFor(4)
  const update = after.slice(2).find((m) => m.to[0] === 'anna@extern.example')!
  const cancel = after.slice(2).find((m) => m.to[0] === 'bert@extern.example')!
  t.match(update.parsed.subject, /^Updated invitation: Kick-off/)
  const u = calendarOf(update).getFirstSubcomponent('vevent')!
  t.equal(u.getFirstPropertyValue('uid'), uid)
  t.equal(u.getFirstPropertyValue('sequence'), 1)
  t.equal((u.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString(), '2030-05-07T07:00:00.000Z')
  t.match(cancel.parsed.subject, /^Cancelled: Kick-off/)
  const c = calendarOf(cancel)
  t.equal(c.getFirstPropertyValue('method'), 'CANCEL')
  t.equal(c.getFirstSubcomponent('vevent')!.getFirstPropertyValue('status'), 'CANCELLED')
  t.equal(c.getFirstSubcomponent('vevent')!.getFirstPropertyValue('uid'), uid)

  await bob.post(`${url}/delete`)
  await send(app)
  const last = await smtp.waitFor(5)
  const deleted = last[4]!
  t.equal(deleted.to[0], 'anna@extern.example', 'only the remaining invited attendee')
  const d = calendarOf(deleted)
  t.equal(d.getFirstPropertyValue('method'), 'CANCEL')
  t.equal(d.getFirstSubcomponent('vevent')!.getFirstPropertyValue('sequence'), 2)
  await send(app)
  t.equal(smtp.mails.length, 5, 'nothing sent twice')
})

t.test('an invitation still queued is withdrawn when its attendee is removed or the follow-up deleted', async (t) => {
  const { app, bob, smtp } = await world(t)
  await bob.get('/follow-ups/new')
  // Not sent yet (the worker has not run): removing Bert withdraws his invitation; Anna's is replaced.
  const url = String((await bob.post('/follow-ups', FORM)).headers.location)
  await bob.get(`${url}/edit`)
  t.equal((await bob.post(url, { ...FORM, title: 'Kick-off (moved)', attendees: 'anna@extern.example' })).statusCode, 303)
  await send(app)
  await smtp.waitFor(1)
  await send(app)
  t.same(smtp.mails.map((m) => m.to[0]), ['anna@extern.example'], 'Bert hears nothing: no invitation, no cancellation for a meeting he never heard of')
  t.match(smtp.mails[0]!.parsed.subject, /^Invitation: Kick-off \(moved\)/, 'Anna gets the latest version only, as her first invitation (she never had the earlier one)')

  // Deleted before anything went out: nobody gets an invitation for it.
  await bob.get('/follow-ups/new')
  const second = String((await bob.post('/follow-ups', { ...FORM, title: 'Never mind' })).headers.location)
  t.equal((await bob.post(`${second}/delete`)).statusCode, 303)
  await send(app)
  await send(app)
  t.equal(smtp.mails.length, 1, 'nothing sent for the deleted follow-up')
  t.same(app.db.prepare("SELECT state FROM outbox WHERE state NOT IN ('sent', 'superseded')").pluck().all(), [], 'no invitation left to go out')
})

t.test('SMTP down: queued, then delivered exactly once — across a restart', async (t) => {
  const { app, bob, smtp, dataDir } = await world(t)
  const port = smtp.port
  await smtp.close()
  await bob.get('/follow-ups/new')
  await bob.post('/follow-ups', { ...FORM, attendees: 'anna@extern.example' })
  await send(app)
  const row = app.db.prepare('SELECT state, attempts, last_error FROM outbox').get() as { state: string; attempts: number; last_error: string }
  t.equal(row.state, 'queued')
  t.equal(row.attempts, 1)
  t.match(JSON.parse(row.last_error), { code: 'connection_refused', detail: /ECONNREFUSED/ }, 'stored as a structured reason')
  await app.close()

  const again = await startSmtpFake({ auth: SMTP_USER })
  t.teardown(() => again.close())
  const restarted = await build(t, dataDir)
  const user = restarted.services.users.findByEmailWithHash('bob@example.com')!
  const settings = restarted.services.mail.settings.getForUser(user.id)!
  restarted.services.mail.settings.saveForUser(user.id, { ...settings, port: again.port }, null)
  t.not(port, again.port)
  await send(restarted)
  await send(restarted)
  await again.waitFor(1)
  t.equal(again.mails.length, 1, 'delivered once')
  t.equal(restarted.db.prepare('SELECT state FROM outbox').pluck().get(), 'sent')
})

t.test('an SMTP server that drops mid-message: retried and delivered once; a rejected recipient fails with the reason and Retry', async (t) => {
  const { app, bob, smtp } = await world(t)
  smtp.knobs.dropMidMessage = 1
  smtp.knobs.rejectRecipients = ['bert@extern.example']
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', FORM)
  await send(app)
  await send(app)
  await send(app)
  t.equal(smtp.mails.filter((m) => m.to[0] === 'anna@extern.example').length, 1, 'anna got exactly one')
  const bert = app.db.prepare("SELECT id, state, last_error FROM outbox WHERE recipient = 'bert@extern.example'").get() as { id: number; state: string; last_error: string }
  t.equal(bert.state, 'failed')
  t.same(JSON.parse(bert.last_error), { code: 'recipient_refused', status: 550, answer: '550 Mailbox unavailable: bert@extern.example' }, 'the reason as data, the server’s answer verbatim')
  const dropped = app.db.prepare("SELECT detail FROM outbox_attempts a JOIN outbox o ON o.id = a.outbox_id WHERE o.recipient = 'anna@extern.example' AND a.ok = 0").pluck().all() as string[]
  t.same(dropped.map((d) => JSON.parse(d).code), ['connection_dropped'], 'the dropped connection is classified')
  const page = await bob.get(String(res.headers.location))
  t.match(page.body, 'invitation: failed')
  t.match(page.body, '(The server refused a recipient. The server&#39;s answer: 550 Mailbox unavailable: bert@extern.example)')
  smtp.knobs.rejectRecipients = []
  const id = String(res.headers.location).split('/').pop()
  t.equal((await bob.post(`/follow-ups/${id}/deliveries/${bert.id}/retry`)).statusCode, 303)
  await send(app)
  t.equal(smtp.mails.filter((m) => m.to[0] === 'bert@extern.example').length, 1)
  t.ok((app.db.prepare('SELECT COUNT(*) FROM outbox_attempts').pluck().get() as number) >= 4, 'every attempt recorded')
})

t.test('without email settings: the option is disabled with a plain note; .ics download always works', async (t) => {
  const dataDir = tempDir(t)
  const app = await build(t, dataDir)
  const admin = await setUpAdmin(app)
  const form = await admin.get('/follow-ups/new')
  t.match(form.body, 'To send email invitations to external attendees, configure your email settings first.')
  t.match(form.body, 'href="/preferences/email"')
  t.match(form.body, /id="f-sendInvitations" type="checkbox" disabled/)
  const res = await admin.post('/follow-ups', { ...FORM, video: '' })
  t.equal(app.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get(), 0)
  const ics = await admin.get(`${String(res.headers.location)}/invite.ics`)
  t.equal(ics.statusCode, 200)
  t.match(String(ics.headers['content-type']), 'text/calendar')
  t.match(String(ics.headers['content-disposition']), 'attachment; filename="Kick-off.ics"')
  const parsed = new ICAL.Component(ICAL.parse(ics.body))
  t.equal(parsed.getFirstSubcomponent('vevent')!.getFirstPropertyValue('summary'), 'Kick-off')
  t.match((await admin.get('/preferences/email')).body, 'No email settings are in effect')
})

t.test('preview before sending; per-attendee on/off; Save and send', async (t) => {
  const { app, bob, smtp } = await world(t)
  await bob.get('/follow-ups/new')
  const preview = await bob.post('/follow-ups', { ...FORM, action: 'preview' })
  t.equal(preview.statusCode, 200)
  t.match(preview.body, 'Preview of the invitation')
  t.match(preview.body, 'Invitation: Kick-off – Monday, 6 May 2030')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM follow_ups').pluck().get(), 0, 'nothing saved by a preview')
  const hidden = Object.fromEntries([...preview.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].filter(([, n]) => n !== '_csrf').map(([, n, v]) => [n!, v!.replace(/&#39;/g, "'").replace(/&amp;/g, '&')]))
  const res = await bob.post('/follow-ups', { ...hidden, invite: ['bert@extern.example'], action: 'save' })
  t.equal(res.statusCode, 303)
  await send(app)
  await smtp.waitFor(1)
  await send(app)
  t.same(smtp.mails.map((m) => m.to[0]), ['bert@extern.example'], 'only the chosen attendee')
  const page = await bob.get(String(res.headers.location))
  t.match(page.body, 'anna@extern.example · <span class="muted">no invitation</span>')
})

t.test('the installation-wide server serves users without their own; the page says which is in effect', async (t) => {
  const smtp = await startSmtpFake()
  t.teardown(() => smtp.close())
  const app = await build(t, tempDir(t))
  const admin = await setUpAdmin(app)
  await admin.get('/settings/email')
  const saved = await admin.post('/settings/email', { host: '127.0.0.1', port: String(smtp.port), security: 'none', username: '', password: '', fromName: 'Acme meetings', fromAddress: 'meetings@acme.example', action: 'save' })
  t.equal(saved.statusCode, 303)
  const carol = await addUser(app, admin, { name: 'Carol', email: 'carol@acme.example' })
  t.match((await carol.get('/preferences/email')).body, 'invitations go through the installation’s server (127.0.0.1)')
  await carol.get('/follow-ups/new')
  await carol.post('/follow-ups', { ...FORM, video: '', attendees: 'dan@extern.example' })
  await send(app)
  const [mail] = await smtp.waitFor(1)
  t.equal(mail!.parsed.from?.value[0]?.address, 'meetings@acme.example')
  t.equal(mail!.parsed.replyTo?.value[0]?.address, 'carol@acme.example', 'replies reach the organizer')
  t.equal((await carol.get('/settings/email')).statusCode, 403)
})

t.test('titles, names and addresses with CR/LF are refused: no header injection', async (t) => {
  const { app, bob } = await world(t)
  await bob.get('/follow-ups/new')
  const res = await bob.post('/follow-ups', { ...FORM, title: 'Hi\r\nBcc: victim@example.com' })
  t.equal(res.statusCode, 422)
  t.match(res.body, 'Remove the control characters')
  const attendee = await bob.post('/follow-ups', { ...FORM, attendees: 'a@example.com\r\nBcc: x@example.com' })
  t.equal(attendee.statusCode, 422)
  await bob.get('/preferences/email')
  const name = await bob.post('/preferences/email', { host: '127.0.0.1', port: '25', security: 'none', fromName: 'Bob\r\nBcc: x@example.com', fromAddress: 'bob@example.com', action: 'save' })
  t.equal(name.statusCode, 422)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM outbox').pluck().get(), 0)
})

t.test('an invitation waits for a pending video link, then goes out with it', async (t) => {
  const { startZoomFake } = await import('../fakes/zoom.js')
  const { connectThroughFake } = await import('../helpers/configure.js')
  const zoom = await startZoomFake()
  t.teardown(() => zoom.close())
  const smtp = await startSmtpFake()
  t.teardown(() => smtp.close())
  const app = await buildApp(loadConfig({ DATA_DIR: tempDir(t), LOG_LEVEL: 'silent', PROVIDER_TIMEOUT_MS: '1000', ...zoom.env }), { startWorkers: false })
  t.teardown(() => app.close())
  const admin = await setUpAdmin(app)
  await connectThroughFake(app, admin, 'zoom')
  await admin.submit('/preferences/email', '/preferences/email', { host: '127.0.0.1', port: String(smtp.port), security: 'none', username: '', password: '', fromName: 'Ada', fromAddress: 'ada@example.com', action: 'save' })
  const connect = await admin.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
  const back = new URL((await fetch(String(connect.headers.location), { redirect: 'manual' })).headers.get('location')!)
  await admin.get(back.pathname + back.search)

  zoom.knobs.apiStatus = 503
  await admin.get('/follow-ups/new')
  const res = await admin.post('/follow-ups', { ...FORM, attendees: 'anna@extern.example' })
  t.equal(app.db.prepare('SELECT state FROM outbox').pluck().get(), 'waiting')
  await send(app)
  t.equal(smtp.mails.length, 0, 'not sent without the link')
  t.match((await admin.get(String(res.headers.location))).body, 'invitation: waiting for the video link')

  zoom.knobs.apiStatus = null
  app.db.prepare('UPDATE jobs SET run_at = 0').run()
  await app.services.meetings.runDue()
  await send(app)
  const [mail] = await smtp.waitFor(1)
  const link = app.db.prepare('SELECT join_url FROM meetings').pluck().get() as string
  t.match(link, /^https?:\/\//)
  t.match(mail!.parsed.text, link, 'sent with the link')
  t.equal(calendarOf(mail!).getFirstSubcomponent('vevent')!.getFirstPropertyValue('url'), link)
})
