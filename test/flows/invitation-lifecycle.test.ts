/**
 * An invitation's whole life, for two installations at once, as attendees' calendars see it: invite →
 * reschedule → video off → video on → an attendee added → one removed → delete. Every mail is captured from a
 * real SMTP server on loopback and its calendar read by ical.js, python's icalendar and vobject.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { startSmtpFake, type ReceivedMail, type SmtpFake } from '../fakes/smtp.js'
import { addUser, Client, followUpForm, setUpAdmin, tempDir } from '../helpers/app.js'
import { readWithEveryParser, type ReadEvent } from '../helpers/ics.js'

const FORM = followUpForm({
  title: 'Kick-off',
  start: '2030-05-06T15:00',
  end: '2030-05-06T16:30',
  description: 'Agenda follows',
  attendees: 'anna@extern.example\nbert@extern.example',
  sendInvitations: 'true',
})

interface Installation {
  host: string
  app: FastifyInstance
  bob: Client
}

async function installation(t: Test, host: string, smtp: SmtpFake): Promise<Installation> {
  const app = await buildApp(loadConfig({ DATA_DIR: tempDir(t), LOG_LEVEL: 'silent', BASE_URL: `http://${host}`, SMTP_TIMEOUT_MS: '1500' }), { startWorkers: false })
  t.teardown(() => app.close())
  const admin = await setUpAdmin(app)
  await admin.submit('/settings/video-meetings/configure', '/settings/video-meetings/configure/jitsi', {})
  const bob = await addUser(app, admin, { name: 'Bob Organizer', email: 'bob@example.com' })
  await bob.get('/preferences/email')
  const saved = await bob.post('/preferences/email', { host: '127.0.0.1', port: String(smtp.port), security: 'none', username: '', password: '', fromName: 'Bob Organizer', fromAddress: 'bob@example.com', action: 'save' })
  if (saved.statusCode !== 303) throw new Error(`saving email settings: ${saved.statusCode}`)
  return { host, app, bob }
}

/** Runs the mail worker until the outbox is empty; returns the mails that arrived meanwhile. */
async function sendAll(i: Installation, smtp: SmtpFake): Promise<ReceivedMail[]> {
  const before = smtp.mails.length
  for (let round = 0; round < 5; round++) {
    i.app.db.prepare('UPDATE outbox SET next_attempt_at = 0').run()
    await i.app.services.mail.mailer.runDue()
  }
  return smtp.mails.slice(before)
}

/** The calendar of a mail as all three parsers read it; each must read it, and read the same event. */
function eventOf(t: Test, mail: ReceivedMail): { method: string; event: ReadEvent } {
  const calendars = mail.parsed.attachments.filter((a) => /^(text\/calendar|application\/ics)/.test(a.contentType))
  t.equal(calendars.length, 2, `${mail.parsed.subject}: the calendar as one alternative and one attachment, not three times`)
  const attachment = calendars.find((a) => a.contentDisposition === 'attachment')
  t.match(attachment?.filename, /^(invitation|cancellation)\.ics$/, 'the attachment is named for what it is')
  const text = calendars[0]!.content.toString('utf8')
  const readings = readWithEveryParser(text)
  const [first] = Object.values(readings)
  for (const [parser, reading] of Object.entries(readings)) {
    if (!reading.ok) throw new Error(`${parser} rejected the calendar of "${mail.parsed.subject}": ${reading.error}\n${text}`)
    t.equal(reading.calendar.events.length, 1, `${parser}: one event`)
    if (first?.ok) t.same({ ...reading.calendar.events[0], attendees: undefined, organizer: undefined, description: undefined }, { ...first.calendar.events[0], attendees: undefined, organizer: undefined, description: undefined }, `${parser} reads what ical.js reads`)
    t.equal(reading.calendar.events[0]?.organizer?.address, 'mailto:bob@example.com', `${parser}: the organizer`)
  }
  if (!first?.ok) throw new Error('unreachable')
  const method = first.calendar.method
  const declared = /Content-Type: text\/calendar;[^\r\n]*method=([A-Z]+)/i.exec(mail.raw)?.[1]
  t.equal(declared?.toUpperCase(), method, 'the text/calendar part says the same METHOD as the file')
  return { method, event: first.calendar.events[0]! }
}

t.test('invite, reschedule, video off and on, add, remove, delete: what two installations send, read by three parsers', async (t) => {
  const smtp = await startSmtpFake()
  t.teardown(() => smtp.close())
  const uids: string[] = []

  for (const host of ['one.example.test', 'two.example.test']) {
    await t.test(host, async (t) => {
      const i = await installation(t, host, smtp)
      const { bob } = i
      const byRecipient = (mails: ReceivedMail[]) => new Map(mails.map((m) => [m.to[0]!, m]))

      // 1. The invitation.
      await bob.get('/follow-ups/new')
      const url = String((await bob.post('/follow-ups', FORM)).headers.location)
      const invited = byRecipient(await sendAll(i, smtp))
      t.same([...invited.keys()].sort(), ['anna@extern.example', 'bert@extern.example'])
      const first = eventOf(t, invited.get('anna@extern.example')!)
      t.equal(first.method, 'REQUEST')
      t.match(first.event.uid, new RegExp(`^[0-9a-f-]{36}@${host.replace(/\./g, '\\.')}$`), 'a random UID in the installation’s name')
      uids.push(first.event.uid)
      t.equal(first.event.sequence, 0)
      t.match(invited.get('anna@extern.example')!.parsed.subject, /^Invitation: Kick-off/)
      t.match(invited.get('anna@extern.example')!.parsed.messageId, new RegExp(`@${host.replace(/\./g, '\\.')}>?$`), 'the Message-ID ends in the installation’s host')
      const firstLink = first.event.url
      t.match(firstLink, /^https:\/\/meet\.jit\.si\//)
      t.equal(first.event.location, firstLink, 'Location was empty: the join link is there')

      // 2. Rescheduled: everyone gets the update, SEQUENCE rises.
      const edit = async (changes: Record<string, string>) => {
        const current = await bob.get(`${url}/edit`)
        const location = /name="location"[^>]*value="([^"]*)"/.exec(current.body)?.[1] ?? ''
        const res = await bob.post(url, { ...FORM, location: location.replace(/&amp;/g, '&'), ...changes })
        t.equal(res.statusCode, 303, `saved ${JSON.stringify(changes)}`)
      }
      await edit({ start: '2030-05-07T15:00', end: '2030-05-07T16:30' })
      const moved = byRecipient(await sendAll(i, smtp))
      const second = eventOf(t, moved.get('anna@extern.example')!)
      t.match(second.event, { uid: first.event.uid, sequence: 1, start: '2030-05-07T13:00:00.000Z' })
      t.match(moved.get('anna@extern.example')!.parsed.subject, /^Updated invitation: Kick-off/)

      // 3. Video off: the dead link leaves Location and the mail; the update is significant.
      await edit({ start: '2030-05-07T15:00', end: '2030-05-07T16:30', video: '' })
      const off = byRecipient(await sendAll(i, smtp))
      const third = eventOf(t, off.get('anna@extern.example')!)
      t.match(third.event, { uid: first.event.uid, sequence: 2 })
      t.equal(third.event.location, null, 'no LOCATION pointing at the deleted meeting')
      t.equal(third.event.url, null)
      t.notMatch(off.get('anna@extern.example')!.parsed.text ?? '', firstLink!, 'nor anywhere in the mail')
      t.equal(i.app.services.followUps.getAny(Number(url.split('/').pop()))!.location, '', 'Location on the follow-up is cleared too')

      // 4. Video on again: the new link everywhere, none of the old one.
      await edit({ start: '2030-05-07T15:00', end: '2030-05-07T16:30', video: 'true' })
      const on = byRecipient(await sendAll(i, smtp))
      const fourth = eventOf(t, on.get('anna@extern.example')!)
      t.match(fourth.event, { uid: first.event.uid, sequence: 3 })
      t.not(fourth.event.url, firstLink, 'a new meeting')
      t.equal(fourth.event.location, fourth.event.url, 'Location holds the new link, not the dead one')

      // 5. Cyd added: his first mail is an invitation; nobody else hears anything (nothing else changed).
      await edit({ start: '2030-05-07T15:00', end: '2030-05-07T16:30', video: 'true', attendees: 'anna@extern.example\nbert@extern.example\ncyd@extern.example' })
      const added = await sendAll(i, smtp)
      t.same(added.map((m) => m.to[0]), ['cyd@extern.example'])
      t.match(added[0]!.parsed.subject, /^Invitation: Kick-off/, 'not “Updated invitation”: it is his first')
      t.match(eventOf(t, added[0]!).event, { uid: first.event.uid, sequence: 3 })

      // 6. Bert removed: his cancellation only.
      await edit({ start: '2030-05-07T15:00', end: '2030-05-07T16:30', video: 'true', attendees: 'anna@extern.example\ncyd@extern.example' })
      const removed = await sendAll(i, smtp)
      t.same(removed.map((m) => m.to[0]), ['bert@extern.example'])
      const cancelBert = eventOf(t, removed[0]!)
      t.equal(cancelBert.method, 'CANCEL')
      t.match(cancelBert.event, { uid: first.event.uid, sequence: 4, status: 'CANCELLED' })

      // 7. Deleted: everyone left gets the cancellation, with a higher SEQUENCE than anything before.
      t.equal((await bob.post(`${url}/delete`)).statusCode, 303)
      const deleted = byRecipient(await sendAll(i, smtp))
      t.same([...deleted.keys()].sort(), ['anna@extern.example', 'cyd@extern.example'])
      for (const mail of deleted.values()) {
        const cancel = eventOf(t, mail)
        t.equal(cancel.method, 'CANCEL')
        t.match(cancel.event, { uid: first.event.uid, sequence: 5, status: 'CANCELLED' })
      }
    })
  }
  t.not(uids[0], uids[1], 'the same follow-up id on two installations: two different UIDs')
})

t.test('the download and the mail agree: one UID, the current SEQUENCE, whichever went out first', async (t) => {
  const smtp = await startSmtpFake()
  t.teardown(() => smtp.close())
  const i = await installation(t, 'vm.example.test', smtp)
  await i.bob.get('/follow-ups/new')
  const url = String((await i.bob.post('/follow-ups', FORM)).headers.location)
  const downloaded = readWithEveryParser((await i.bob.get(`${url}/invite.ics`)).body)
  const mailed = eventOf(t, (await sendAll(i, smtp))[0]!)
  t.ok(downloaded['ical.js'].ok && downloaded['ical.js'].calendar.events[0]?.uid === mailed.event.uid, 'the same UID')

  await i.bob.get(`${url}/edit`)
  await i.bob.post(url, { ...FORM, start: '2030-05-08T15:00', end: '2030-05-08T16:30', sendInvitations: '' })
  const again = readWithEveryParser((await i.bob.get(`${url}/invite.ics`)).body)
  for (const [parser, reading] of Object.entries(again)) {
    t.ok(reading.ok, parser)
    if (reading.ok) t.match(reading.calendar.events[0], { uid: mailed.event.uid, sequence: 1, start: '2030-05-08T13:00:00.000Z' }, `${parser}: the download after a reschedule has the new time and SEQUENCE`)
  }

  // The delete page offers the cancellation file, for calendars that imported the downloaded invitation.
  const confirm = await i.bob.get(`${url}/delete`)
  t.match(confirm.body, `${url}/cancel.ics`)
  const cancel = readWithEveryParser((await i.bob.get(`${url}/cancel.ics`)).body)
  for (const [parser, reading] of Object.entries(cancel)) {
    t.ok(reading.ok, parser)
    if (reading.ok) t.match({ method: reading.calendar.method, ...reading.calendar.events[0] }, { method: 'CANCEL', uid: mailed.event.uid, sequence: 2, status: 'CANCELLED' }, parser)
  }

  // The organizer's own copy: PUBLISH, no attendees, nothing to answer.
  const own = readWithEveryParser((await i.bob.get(`${url}/event.ics`)).body)
  for (const [parser, reading] of Object.entries(own)) {
    t.ok(reading.ok, parser)
    if (reading.ok) t.match({ method: reading.calendar.method, attendees: reading.calendar.events[0]?.attendees, uid: reading.calendar.events[0]?.uid }, { method: 'PUBLISH', attendees: [], uid: mailed.event.uid }, parser)
  }
})

t.test('a changed sender address keeps the organizer the invitations were first sent with, and says so', async (t) => {
  const smtp = await startSmtpFake()
  t.teardown(() => smtp.close())
  const i = await installation(t, 'vm.example.test', smtp)
  await i.bob.get('/follow-ups/new')
  const url = String((await i.bob.post('/follow-ups', FORM)).headers.location)
  await sendAll(i, smtp)
  await i.bob.get('/preferences/email')
  await i.bob.post('/preferences/email', { host: '127.0.0.1', port: String(smtp.port), security: 'none', username: '', password: '', fromName: 'Bob', fromAddress: 'bob.new@example.com', action: 'save' })
  await i.bob.get(`${url}/edit`)
  await i.bob.post(url, { ...FORM, start: '2030-05-09T15:00', end: '2030-05-09T16:30' })
  const [update] = await sendAll(i, smtp)
  t.equal(eventOf(t, update!).event.organizer?.address, 'mailto:bob@example.com', 'ORGANIZER unchanged under the same UID')
  t.match((await i.bob.get(url)).body, 'bob@example.com, the address they were first sent with')
})
