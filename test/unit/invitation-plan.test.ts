import t from 'tap'
import { planInvitations, type InvitationPlanInput } from '../../src/mail/invitation-plan.js'
import type { Appointment } from '../../src/model/appointment.js'

const meeting: Appointment = { title: 'Review', startsAt: '2030-01-01T09:00:00.000Z', endsAt: '2030-01-01T10:00:00.000Z', timeZone: 'UTC', location: '', description: '', video: true }
const people = (...emails: string[]) => emails.map((email) => ({ email, invite: true }))
const reachedOnly = (...emails: string[]) => (email: string) => emails.includes(email.toLowerCase())

const plan = (input: Partial<InvitationPlanInput> & Pick<InvitationPlanInput, 'after'>) =>
  planInvitations({ before: null, deleting: false, send: true, reached: () => false, ...input })

t.test('a new follow-up: invitations to the attendees who get one, only when the organizer sends', async (t) => {
  const after = { appointment: meeting, attendees: [...people('ann@x.test'), { email: 'bo@x.test', invite: false }] }
  t.same(plan({ after }), { requests: ['ann@x.test'], cancels: [], withdrawn: [], invitees: ['ann@x.test'] })
  t.same(plan({ after, send: false }).requests, [], 'not sending: nobody gets one')
})

t.test('a change the invitation shows: an update to everyone who has it, even when not sending', async (t) => {
  const before = { appointment: meeting, attendees: people('ann@x.test', 'bo@x.test') }
  const moved = { appointment: { ...meeting, startsAt: '2030-01-01T11:00:00.000Z', endsAt: '2030-01-01T12:00:00.000Z' }, attendees: before.attendees }
  t.same(plan({ before, after: moved, send: false, reached: reachedOnly('ann@x.test') }).requests, ['ann@x.test'])
  t.same(plan({ before, after: moved, send: true, reached: reachedOnly('ann@x.test') }).requests, ['ann@x.test', 'bo@x.test'])
  for (const field of ['title', 'timeZone', 'location', 'description'] as const) {
    const after = { appointment: { ...meeting, [field]: 'changed' }, attendees: before.attendees }
    t.same(plan({ before, after, send: false, reached: reachedOnly('ann@x.test') }).requests, ['ann@x.test'], `${field} is shown in the invitation`)
  }
  const videoOff = { appointment: { ...meeting, video: false }, attendees: before.attendees }
  t.same(plan({ before, after: videoOff, send: false, reached: reachedOnly('ann@x.test') }).requests, ['ann@x.test'], 'video off changes what it says')
})

t.test('nothing the invitation shows changed: only people without it yet get it', async (t) => {
  const before = { appointment: meeting, attendees: people('ann@x.test') }
  const after = { appointment: meeting, attendees: people('ann@x.test', 'new@x.test') }
  t.same(plan({ before, after, reached: reachedOnly('ann@x.test') }).requests, ['new@x.test'])
})

t.test('a removed attendee who had the invitation gets a cancellation; one who did not, nothing', async (t) => {
  const before = { appointment: meeting, attendees: people('ann@x.test', 'bo@x.test') }
  const after = { appointment: meeting, attendees: [] }
  const result = plan({ before, after, reached: reachedOnly('ann@x.test') })
  t.same(result.cancels, ['ann@x.test'])
  t.same(result.withdrawn, ['bo@x.test'], "bo's queued invitation must not go out")
})

t.test('an attendee unticked before their invitation went out: withdrawn, not cancelled', async (t) => {
  const before = { appointment: meeting, attendees: people('ann@x.test') }
  const after = { appointment: meeting, attendees: [{ email: 'ann@x.test', invite: false }] }
  t.same(plan({ before, after }), { requests: [], cancels: [], withdrawn: ['ann@x.test'], invitees: [] })
})

t.test('delete: a cancellation to everyone who had the invitation, named on it as before', async (t) => {
  const attendees = people('ann@x.test', 'bo@x.test', 'cy@x.test')
  const result = plan({ before: { appointment: meeting, attendees }, after: { appointment: meeting, attendees }, deleting: true, send: false, reached: reachedOnly('ann@x.test', 'cy@x.test') })
  t.same(result.cancels, ['ann@x.test', 'cy@x.test'])
  t.same(result.requests, [])
  t.same(result.withdrawn, ['bo@x.test'], 'a queued invitation to someone who never got one is withdrawn')
  t.same(result.invitees, ['ann@x.test', 'bo@x.test', 'cy@x.test'])
})

t.test('addresses compare without case', async (t) => {
  const before = { appointment: meeting, attendees: people('Ann@X.test') }
  const after = { appointment: meeting, attendees: people('ann@x.test') }
  t.same(plan({ before, after, reached: reachedOnly('ann@x.test') }), { requests: [], cancels: [], withdrawn: [], invitees: ['ann@x.test'] })
})
