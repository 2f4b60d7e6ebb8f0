import t from 'tap'
import { ProviderError, type ApiClient } from '../../src/providers/contract.js'
import { teamsProvider } from '../../src/providers/teams/adapter.js'
import { PERSONAL_ACCOUNT_MESSAGE } from '../../src/providers/teams/text.js'
import { MSA_TENANT_ID, startMicrosoftFake } from '../fakes/microsoft.js'
import { randomUUID } from 'node:crypto'
import { asForm, checkFaults, connect, createWithLostAnswer, futureMeeting, meetingsOfRequest, rejectsWith } from './helpers.js'

// `common` lets a personal account reach the app (with `organizations` Microsoft stops it on its own page).
const fake = await startMicrosoftFake({ tenant: 'common' })
t.teardown(() => fake.close())
const settings = { lobbyBypass: 'organizer', preferDirectLink: true }

t.test('the OAuth spec', async (t) => {
  const oauth = teamsProvider.oauth
  t.equal(oauth?.clientAuth, 'body')
  t.match(oauth?.refreshParams?.scope, /offline_access/)
  t.match(oauth?.refreshParams?.scope, /OnlineMeetings\.ReadWrite/)
  const c = await connect(fake, teamsProvider)
  const granted = String(c.tokenResponse.scope).split(' ')
  for (const scope of oauth?.requiredScopes ?? []) t.ok(granted.includes(scope), `the grant contains ${scope}`)
  t.type(c.tokenResponse.refresh_token, 'string', 'offline_access brings a refresh token')

  // Microsoft refuses a refresh without scope; the adapter's refreshParams make it work.
  const refreshed = await fetch(c.endpoints.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: String(c.tokenResponse.refresh_token),
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      ...oauth?.refreshParams,
    }).toString(),
  })
  t.equal(refreshed.status, 200)
  t.match(oauth?.registrationHelp.en, /multitenant/)
  t.match(oauth?.registrationHelp.en, /admin consent/)
  t.match(oauth?.registrationHelp.en, /work or school/)
  t.ok(teamsProvider.note?.nl)
})

t.test('identity', async (t) => {
  t.test('a work account', async (t) => {
    const c = await connect(fake, teamsProvider)
    const identity = await teamsProvider.identity(c.api(), c.endpoints, c.tokenResponse)
    t.same(identity, { accountId: fake.user.id, name: 'Adele Vance', email: 'AdeleV@contoso.example' })
  })
  t.test('mail: null falls back to userPrincipalName', async (t) => {
    fake.knobs.mailNull = true
    t.teardown(() => fake.reset())
    const c = await connect(fake, teamsProvider)
    const identity = await teamsProvider.identity(c.api(), c.endpoints, c.tokenResponse)
    t.equal(identity.email, 'AdeleV@contoso.example')
    t.equal(fake.requests.at(-1)?.path, '/v1.0/me')
  })
  t.test('a personal Microsoft account is refused', async (t) => {
    fake.knobs.personalAccount = true
    t.teardown(() => fake.reset())
    const c = await connect(fake, teamsProvider)
    const before = fake.count('/v1.0/me')
    const error = await rejectsWith(t, teamsProvider.identity(c.api(), c.endpoints, c.tokenResponse), 'fail')
    t.same(error.details.userMessage, PERSONAL_ACCOUNT_MESSAGE)
    t.equal(error.details.userMessage?.en, 'Microsoft Teams needs a work or school account; personal Microsoft accounts are not supported.')
    t.equal(fake.count('/v1.0/me'), before, 'decided from the id_token (tid) without asking Graph')

    const withoutIdToken = { ...c.tokenResponse }
    delete withoutIdToken.id_token
    const fromGraph = await rejectsWith(t, teamsProvider.identity(c.api(), c.endpoints, withoutIdToken), 'fail', 'without an id_token')
    t.same(fromGraph.details.userMessage, PERSONAL_ACCOUNT_MESSAGE, 'decided from the Graph user id')

    const created = await rejectsWith(t, teamsProvider.meetings.create(c.api(), futureMeeting(), settings), 'fail', 'onlineMeetings refuses the account')
    t.same(created.details.userMessage, PERSONAL_ACCOUNT_MESSAGE)
    const found = await rejectsWith(t, teamsProvider.meetings.find!(c.api(), futureMeeting()), 'fail', 'createOrGet refuses the account too')
    t.same(found.details.userMessage, PERSONAL_ACCOUNT_MESSAGE)
    t.equal(MSA_TENANT_ID, '9188040d-6c67-4c5b-b112-36a304b66dad')
  })
})

t.test('settings', async (t) => {
  const s = teamsProvider.settings
  t.same(s.defaults(), { lobbyBypass: 'organization', preferDirectLink: true })
  t.same(s.parse(asForm(s.defaults()), 'en'), { settings: { lobbyBypass: 'organization', preferDirectLink: true }, errors: {} })
  t.same(s.parse({ lobbyBypass: 'everyone' }, 'en').settings, { lobbyBypass: 'everyone', preferDirectLink: false })
  t.same(s.parse({ lobbyBypass: 'organizer', preferDirectLink: 'on' }, 'nl').settings, { lobbyBypass: 'organizer', preferDirectLink: true })
  t.equal(s.parse({ lobbyBypass: 'anyone' }, 'en').errors.lobbyBypass, 'Choose one of the options.')
  t.equal(s.parse({ lobbyBypass: 'invited' }, 'nl').errors.lobbyBypass, 'Kies een van de opties.')
  t.same(
    s.fields.find((f) => f.name === 'lobbyBypass')?.options?.map((o) => o.value),
    ['everyone', 'organization', 'organizer'],
    'the values are Graph lobbyBypassScope members',
  )
  t.equal(s.fields.find((f) => f.name === 'preferDirectLink')?.label.en, 'Prefer direct Microsoft Teams link')
})

t.test('create, update, delete', async (t) => {
  const c = await connect(fake, teamsProvider)
  const api = c.api()
  const input = futureMeeting()
  const postsBefore = fake.count('/me/onlineMeetings/createOrGet', 'POST')
  const ref = await teamsProvider.meetings.create(api, input, settings)
  const stored = fake.meetings.get(ref.externalId)
  t.ok(stored)
  t.equal(stored.subject, input.title)
  t.equal(Date.parse(stored.startDateTime), input.start.getTime())
  t.equal(Date.parse(stored.endDateTime), input.end.getTime())
  t.same(stored.lobbyBypassSettings, { scope: 'organizer', isDialInBypassEnabled: false })
  t.equal(ref.joinUrl, stored.joinWebUrl)
  t.equal(ref.passcode, stored.joinMeetingIdSettings.passcode)
  t.equal(ref.meetingCode, stored.joinMeetingIdSettings.joinMeetingId, 'the meeting ID to join by, with the passcode')
  const pin = stored.audioConferencing.conferenceId
  t.same(ref.dialIn, [
    { number: '+1 323-849-4874', pin },
    { number: '+49 69 365 0000', pin },
    { number: '+1 855-555-0100', pin },
  ])

  const later = futureMeeting({ title: 'Moved follow-up', daysAhead: 5, minutes: 20 })
  const updated = await teamsProvider.meetings.update(api, ref, later, { ...settings, lobbyBypass: 'everyone' })
  t.equal(updated.joinUrl, ref.joinUrl, 'the join link stays the same')
  t.equal(updated.externalId, ref.externalId)
  t.equal(stored.subject, 'Moved follow-up')
  t.equal(Date.parse(stored.startDateTime), later.start.getTime())
  t.equal(Date.parse(stored.endDateTime), later.end.getTime())
  t.same(stored.lobbyBypassSettings, { scope: 'everyone', isDialInBypassEnabled: true })
  t.equal(fake.count('/me/onlineMeetings/createOrGet', 'POST'), postsBefore + 1, 'an update never creates a second meeting')
  t.equal(fake.count('/me/onlineMeetings', 'POST'), 0, 'never the plain create')

  await teamsProvider.meetings.delete(api, ref)
  t.notOk(fake.meetings.has(ref.externalId))
  await teamsProvider.meetings.delete(api, ref)
  t.pass('deleting twice is fine')
})

t.test('errors are classified', async (t) => {
  const c = await connect(fake, teamsProvider)
  await checkFaults(t, fake, c, (api) => teamsProvider.meetings.create(api, futureMeeting(), settings))
  const ref = await teamsProvider.meetings.create(c.api(), futureMeeting(), settings)
  await checkFaults(t, fake, c, (api) => teamsProvider.meetings.update(api, ref, futureMeeting(), settings))
})

t.test('Graph throttling codes on a 403 are retried', async (t) => {
  const api: ApiClient = {
    request: async () => {
      throw new ProviderError('fail', 'the provider answered 403 (rateLimitExceeded)', { status: 403, code: 'rateLimitExceeded' })
    },
  }
  const error = await rejectsWith(t, teamsProvider.meetings.create(api, futureMeeting(), settings), 'retry')
  t.equal(error.details.retryAfterMs, 30_000)
})

t.test('create is idempotent on the request id (createOrGet with externalId)', async (t) => {
  const c = await connect(fake, teamsProvider)
  const input = futureMeeting()
  const first = await teamsProvider.meetings.create(c.api(), input, settings)
  const call = fake.requests.filter((r) => r.path.endsWith('/me/onlineMeetings/createOrGet')).at(-1)
  t.same(call?.body, {
    externalId: input.requestId,
    startDateTime: input.start.toISOString(),
    endDateTime: input.end.toISOString(),
    subject: input.title,
  }, 'only createOrGet parameters, externalId = the request id')
  const stored = fake.meetings.get(first.externalId)
  t.equal(stored.externalId, input.requestId)
  t.same(stored.lobbyBypassSettings, { scope: 'organizer', isDialInBypassEnabled: false }, 'lobby settings by the PATCH that follows')
  t.equal(fake.count(`/me/onlineMeetings/${first.externalId}`, 'PATCH'), 1)

  const moved = { ...input, title: 'Moved meanwhile', start: new Date(input.start.getTime() + 3_600_000), end: new Date(input.end.getTime() + 3_600_000) }
  const again = await teamsProvider.meetings.create(c.api(), moved, settings)
  t.equal(again.externalId, first.externalId, 'the same meeting')
  t.equal(again.joinUrl, first.joinUrl, 'the same join link')
  t.equal(meetingsOfRequest(fake, input.requestId).length, 1, 'no duplicate at Graph')
  t.equal(stored.subject, 'Moved meanwhile', 'the existing meeting is brought in line')
  t.equal(Date.parse(stored.startDateTime), moved.start.getTime())

  // externalId is per user: another user of the tenant with the same one gets a meeting of their own.
  const adele = fake.user
  fake.user = { ...adele, id: randomUUID(), displayName: 'Megan Bowen', mail: 'MeganB@contoso.example', userPrincipalName: 'MeganB@contoso.example' }
  t.teardown(() => (fake.user = adele))
  const megan = await connect(fake, teamsProvider)
  const hers = await teamsProvider.meetings.create(megan.api(), input, settings)
  t.not(hers.externalId, first.externalId)
  t.equal(meetingsOfRequest(fake, input.requestId).length, 2)
})

t.test('find: the meeting a create made whose answer was lost', async (t) => {
  const c = await connect(fake, teamsProvider)
  const input = futureMeeting({ title: 'Lost answer' })
  const made = await createWithLostAnswer(t, fake, c, input.requestId, (api) => teamsProvider.meetings.create(api, input, settings))
  t.same(made.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: false }, 'the PATCH never came')
  const found = await teamsProvider.meetings.find!(c.api(), input)
  t.equal(found?.externalId, made.id, 'the meeting the lost create made')
  t.equal(found?.joinUrl, made.joinWebUrl, 'with its join link')
  t.equal(found?.passcode, made.joinMeetingIdSettings.passcode)
  t.equal(meetingsOfRequest(fake, input.requestId).length, 1, 'find made none')
  // The sync then updates it, which sets what createOrGet could not.
  await teamsProvider.meetings.update(c.api(), found!, input, settings)
  t.same(made.lobbyBypassSettings, { scope: 'organizer', isDialInBypassEnabled: false })
  t.equal(meetingsOfRequest(fake, input.requestId).length, 1)
})

t.test('find: null when no earlier create reached Graph; the create that follows gets that same meeting', async (t) => {
  const c = await connect(fake, teamsProvider)
  const input = futureMeeting({ title: 'Never arrived' })
  fake.knobs.resetConnection = 'api'
  await rejectsWith(t, teamsProvider.meetings.create(c.api(), input, settings), 'retry', 'reset before Graph sees the request')
  fake.reset()
  t.equal(meetingsOfRequest(fake, input.requestId).length, 0)

  const other = futureMeeting({ title: 'Never arrived' })
  const otherRef = await teamsProvider.meetings.create(c.api(), { ...other, start: input.start, end: input.end }, settings)
  t.equal(await teamsProvider.meetings.find!(c.api(), input), null, 'nothing earlier (another request id with the same title and times is not ours)')
  const made = meetingsOfRequest(fake, input.requestId)
  t.equal(made.length, 1, 'Graph has no read-only lookup: createOrGet made it now')
  t.not(made[0]?.id, otherRef.externalId)
  const ref = await teamsProvider.meetings.create(c.api(), input, settings)
  t.equal(ref.externalId, made[0]?.id, 'the create that follows gets that meeting back')
  t.equal(meetingsOfRequest(fake, input.requestId).length, 1, 'still exactly one')
  t.equal(await teamsProvider.meetings.find!(c.api(), input).then((r) => r?.externalId), ref.externalId, 'and a later find finds it')
})

t.test('the Microsoft fake: createOrGet rules', async (t) => {
  const c = await connect(fake, teamsProvider)
  const post = (path: string, body: unknown) =>
    fetch(`${c.endpoints.apiUrl}/${path}`, { method: 'POST', headers: { authorization: `Bearer ${c.accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.equal((await post('me/onlineMeetings/createOrGet', { subject: 'x' })).status, 400, 'externalId is required')
  t.equal((await post('me/onlineMeetings/createOrGet', { externalId: randomUUID(), endDateTime: '2030-01-01T10:00:00Z' })).status, 400, 'end without start')
  t.equal((await post('me/onlineMeetings/createOrGet', { externalId: randomUUID(), startDateTime: '2030-01-01T10:00:00Z', endDateTime: '2030-01-01T09:00:00Z' })).status, 400, 'end before start')
  t.equal((await post('me/onlineMeetings', { subject: 'x', externalId: randomUUID() })).status, 400, 'externalId only with createOrGet')
  const externalId = randomUUID()
  const made = await post('me/onlineMeetings/createOrGet', { externalId, lobbyBypassSettings: { scope: 'everyone' } })
  t.equal(made.status, 201)
  const body = (await made.json()) as Record<string, any>
  t.equal(Date.parse(body.endDateTime) - Date.parse(body.startDateTime), 3_600_000, 'an hour from now by default')
  t.equal(body.lobbyBypassSettings.scope, 'organization', 'lobbyBypassSettings is no createOrGet parameter')
  const got = await post('me/onlineMeetings/createOrGet', { externalId, subject: 'Changed' })
  t.equal(got.status, 200)
  t.equal(((await got.json()) as Record<string, any>).subject, null, 'returned as it was')
})
