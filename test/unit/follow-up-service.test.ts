/**
 * The follow-up service without Fastify: built by the composition root on an in-memory database with a fake
 * clock. Jitsi is the organization's provider here (its meetings are made without a network call), so what is
 * tested is the save itself: one transaction for the follow-up, its meeting and its invitations.
 */
import t from 'tap'
import type { Test } from 'tap'
import type { FollowUpInput } from '../../src/db/repositories/follow-ups.js'
import { testServices } from '../helpers/services.js'

const input = (overrides: Partial<FollowUpInput> = {}): FollowUpInput => ({
  typeId: null,
  title: 'Quarterly review',
  startsAt: '2030-01-02T09:00:00.000Z',
  endsAt: '2030-01-02T10:00:00.000Z',
  timeZone: 'Europe/Amsterdam',
  location: '',
  description: 'Numbers',
  video: true,
  attendees: ['ann@example.com'],
  ...overrides,
})

function world(t: Test, options: { provider?: boolean; mail?: boolean } = {}) {
  const { services, db, clock } = testServices(t)
  const admin = services.users.create({ email: 'admin@example.com', name: 'Ada Admin', passwordHash: 'x', role: 'admin', language: 'en', timeZone: 'UTC' })
  const bob = services.users.create({ email: 'bob@example.com', name: 'Bob', passwordHash: 'x', role: 'user', language: 'nl', timeZone: 'Europe/Amsterdam' })
  if (options.provider !== false) t.same(services.video.organizationProvider.connectWithoutSignIn('jitsi', { id: admin.id, name: admin.name }), { ok: true })
  if (options.mail !== false) {
    services.mail.settings.saveForUser(bob.id, { host: 'smtp.example.com', port: 587, security: 'starttls', username: 'bob', fromName: 'Bob B.', fromAddress: 'bob@mail.example.com' }, 'secret')
  }
  const outbox = () =>
    db.prepare<[], { recipient: string; kind: string; state: string; sequence: number; snapshot: string }>('SELECT recipient, kind, state, sequence, snapshot FROM outbox ORDER BY id').all()
  // What the mail worker records once a message went out; done here by hand, without a mail server.
  const markAllSent = () => {
    for (const row of db.prepare<[], { id: number; follow_up_id: number; recipient: string; kind: string }>("SELECT id, follow_up_id, recipient, kind FROM outbox WHERE state IN ('queued', 'waiting')").all()) {
      db.prepare("UPDATE outbox SET state = 'sent', sent_at = 'now' WHERE id = ?").run(row.id)
      if (row.kind === 'request') services.followUps.markInvited(row.follow_up_id, row.recipient)
    }
  }
  return { services, db, clock, bob, outbox, markAllSent }
}

t.test('a save with video: the follow-up, its meeting made at once, the link in Location, the invitation queued once the link exists', async (t) => {
  const { services, bob, outbox } = world(t)
  const outcome = await services.followUpService.create(bob, input(), { sendInvitations: true })
  t.same(outcome.next, 'show', 'Jitsi needs no sign-in')
  const saved = services.followUps.getForUser(outcome.id, bob.id)!
  t.equal(saved.meeting?.state, 'ready')
  t.match(saved.meeting?.joinUrl, /^https:\/\/meet\.jit\.si\//)
  t.equal(saved.location, saved.meeting?.joinUrl, 'Location was empty: the join link went there')
  t.same(services.meetingRecords.events(outcome.id).map((e) => e.event).sort(), ['created', 'meeting.created'])
  const [mail, ...more] = outbox()
  t.same(more, [])
  t.match(mail, { recipient: 'ann@example.com', kind: 'request', state: 'queued', sequence: 0 })
  t.match(JSON.parse(mail!.snapshot), { organizer: { name: 'Bob', email: 'bob@mail.example.com' }, attendees: ['ann@example.com'], language: 'nl', video: true })
})

t.test('a Location the user typed is kept', async (t) => {
  const { services, bob } = world(t)
  const { id } = await services.followUpService.create(bob, input({ location: 'Room 4' }), { sendInvitations: false })
  t.equal(services.followUps.getForUser(id, bob.id)!.location, 'Room 4')
})

t.test('without email settings nothing is queued; without a provider no meeting', async (t) => {
  const { services, bob, outbox } = world(t, { mail: false, provider: false })
  const { id } = await services.followUpService.create(bob, input(), { sendInvitations: true })
  t.same(outbox(), [])
  t.equal(services.followUps.getForUser(id, bob.id)!.meeting, null)
})

t.test('a move updates the meeting and sends the update with a higher SEQUENCE; an unchanged save sends nothing', async (t) => {
  const { services, bob, outbox, markAllSent } = world(t)
  const { id } = await services.followUpService.create(bob, input(), { sendInvitations: true })
  markAllSent()
  const before = services.followUps.getForUser(id, bob.id)!
  await services.followUpService.update(bob, id, input({ location: before.location }), { sendInvitations: true })
  t.equal(outbox().length, 1, 'nothing changed: no mail')
  t.equal(services.followUps.getForUser(id, bob.id)!.version, before.version, 'nor a new meeting version')

  await services.followUpService.update(bob, id, input({ location: before.location, startsAt: '2030-01-02T11:00:00.000Z', endsAt: '2030-01-02T12:00:00.000Z' }), { sendInvitations: false })
  const after = services.followUps.getForUser(id, bob.id)!
  t.equal(after.version, before.version + 1)
  t.equal(after.meeting?.syncedVersion, after.version, 'the provider heard about it')
  t.equal(after.meeting?.joinUrl, before.meeting?.joinUrl, 'same meeting, same link')
  const update = outbox()[1]
  t.match(update, { recipient: 'ann@example.com', kind: 'request', sequence: 1 }, 'ann has the invitation: she gets the update even without "send"')
  t.match(JSON.parse(update!.snapshot), { startsAt: '2030-01-02T11:00:00.000Z' })
})

t.test('removing an attendee who had the invitation cancels it for them alone', async (t) => {
  const { services, bob, outbox, markAllSent } = world(t)
  const { id } = await services.followUpService.create(bob, input({ attendees: ['ann@example.com', 'cy@example.com'] }), { sendInvitations: true })
  markAllSent()
  const location = services.followUps.getForUser(id, bob.id)!.location
  await services.followUpService.update(bob, id, input({ location, attendees: ['cy@example.com'] }), { sendInvitations: true })
  const cancel = outbox().find((m) => m.kind === 'cancel')
  t.match(cancel, { recipient: 'ann@example.com' })
  t.same(JSON.parse(cancel!.snapshot).attendees, ['ann@example.com'])
})

t.test('delete: everyone who had the invitation gets the cancellation; the meeting is removed and the row purged', async (t) => {
  const { services, db, bob, outbox, markAllSent } = world(t)
  const { id } = await services.followUpService.create(bob, input(), { sendInvitations: true })
  markAllSent()
  t.ok(await services.followUpService.delete(bob, id))
  t.match(outbox().at(-1), { recipient: 'ann@example.com', kind: 'cancel', sequence: 1 })
  t.equal(services.followUps.getForUser(id, bob.id), undefined, 'gone for the user at once')
  t.equal(db.prepare('SELECT COUNT(*) FROM follow_ups WHERE id = ?').pluck().get(id), 0, 'purged once its meeting was removed')
})

t.test("another user's follow-up can be neither changed nor deleted", async (t) => {
  const { services, bob } = world(t)
  const eve = services.users.create({ email: 'eve@example.com', name: 'Eve', passwordHash: 'x', role: 'user', language: 'en', timeZone: 'UTC' })
  const { id } = await services.followUpService.create(bob, input(), { sendInvitations: true })
  t.equal(await services.followUpService.update(eve, id, input({ title: 'Mine now' }), { sendInvitations: false }), null)
  t.notOk(await services.followUpService.delete(eve, id))
  t.equal(services.followUps.getForUser(id, bob.id)!.title, 'Quarterly review')
})

t.test('a save that fails half-way stores nothing: one transaction', async (t) => {
  const { services, db, bob } = world(t)
  // An attendee list the database refuses (the follow-up row would otherwise be left without its attendees).
  db.exec("CREATE TRIGGER refuse BEFORE INSERT ON attendees WHEN NEW.email = 'boom@example.com' BEGIN SELECT RAISE(ABORT, 'refused'); END")
  await t.rejects(services.followUpService.create(bob, input({ attendees: ['boom@example.com'] }), { sendInvitations: true }), /refused/)
  t.equal(db.prepare('SELECT COUNT(*) FROM follow_ups').pluck().get(), 0)
  t.equal(db.prepare('SELECT COUNT(*) FROM meetings').pluck().get(), 0)
  t.equal(db.prepare('SELECT COUNT(*) FROM jobs').pluck().get(), 0)
})
