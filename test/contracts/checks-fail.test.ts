/**
 * The contract checks can fail: real requests and answers (captured from the adapters against their fakes)
 * pass, and the same ones with one thing broken are rejected, with a message naming what broke.
 */
import t from 'tap'
import { googleMeetProvider } from '../../src/providers/google-meet/adapter.js'
import { teamsProvider } from '../../src/providers/teams/adapter.js'
import { webexProvider } from '../../src/providers/webex/adapter.js'
import { zoomProvider } from '../../src/providers/zoom/adapter.js'
import { startGoogleFake } from '../fakes/google.js'
import { startMicrosoftFake } from '../fakes/microsoft.js'
import { startWebexFake } from '../fakes/webex.js'
import { startZoomFake } from '../fakes/zoom.js'
import type { RecordedRequest } from '../fakes/common.js'
import { futureMeeting } from '../providers/helpers.js'
import { session } from './harness.js'
import { Spec } from './spec.js'

const clone = <T>(v: T): T => structuredClone(v)

t.test('Webex: a create body without its required title, a wrong type, an unknown query parameter', async (t) => {
  const spec = new Spec('webex.json')
  const fake = await startWebexFake()
  t.teardown(() => fake.close())
  const s = await session(fake, webexProvider)
  await webexProvider.meetings.create(s.api, futureMeeting(), { password: 'Renew2030x', joinBeforeHost: true })
  const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/v1/meetings') as RecordedRequest
  t.strictSame(spec.checkRequest(post), [], 'the adapter’s body passes')

  const noTitle = clone(post)
  delete (noTitle.body as Record<string, unknown>).title
  t.match(spec.checkRequest(noTitle), [/POST \/meetings body must have required property 'title'/], 'without title: rejected')

  const badType = clone(post)
  ;(badType.body as Record<string, unknown>).enabledJoinBeforeHost = 'yes'
  t.match(spec.checkRequest(badType), [/body\/enabledJoinBeforeHost must be boolean/], 'a string for a boolean: rejected')

  const badFormat = clone(post)
  ;(badFormat.body as Record<string, unknown>).integrationTags = 'not-a-list'
  t.match(spec.checkRequest(badFormat), [/body\/integrationTags must be array/], 'a string for a list: rejected')

  const invented = clone(post)
  ;(invented.body as Record<string, unknown>).sendMail = false
  t.match(spec.checkRequest(invented), [/POST \/meetings body has sendMail, which the spec does not declare/], 'a field the spec does not have (sendMail for sendEmail): rejected')

  const longTitle = clone(post)
  ;(longTitle.body as Record<string, unknown>).title = 'x'.repeat(129)
  t.match(spec.checkRequest(longTitle), [/body\/title must NOT have more than 128 characters/], 'a title of 129 characters (the spec’s prose: at most 128): rejected')

  t.match(spec.checkRequest({ ...post, query: { notifyEveryone: 'true' } }), [/query parameter notifyEveryone is not in the spec/], 'an undeclared query parameter: rejected')
  t.match(spec.checkRequest({ ...post, method: 'PUT', path: '/v1/meetings' }), [/no such operation/], 'a method the path does not have: rejected')
  t.match(spec.checkRequest({ ...post, headers: { ...post.headers, 'content-type': 'text/plain' } }), [/content-type text\/plain is not one the spec accepts/], 'another content type: rejected')

  const answer = s.exchanges.find((x) => x.method === 'POST')
  t.ok(answer)
  t.strictSame(spec.checkResponse('POST', '/v1/meetings', answer?.status ?? 0, answer?.body), [], 'the fake’s answer passes')
  const bad = clone(answer?.body) as Record<string, unknown>
  bad.meetingType = 'coffeeBreak'
  t.match(spec.checkResponse('POST', '/v1/meetings', 200, bad), [/body\/meetingType must be equal to one of the allowed values/], 'an unknown meetingType in the answer: rejected')
  t.match(spec.checkResponse('POST', '/v1/meetings', 299, bad), [/status 299 is not among the spec's answers/], 'an undeclared status: rejected')
})

t.test('Zoom: a wrong enum and a wrong type in the create body; a wrong enum in the answer', async (t) => {
  const spec = new Spec('zoom.json')
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const s = await session(fake, zoomProvider)
  await zoomProvider.meetings.create(s.api, futureMeeting(), { passcode: 'Ab3@x_9*', waitingRoom: true, joinBeforeHost: false, autoRecording: 'cloud' })
  const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/v2/users/me/meetings') as RecordedRequest
  t.strictSame(spec.checkRequest(post), [], 'the adapter’s body passes')
  const always = clone(post)
  ;(always.body as { settings: Record<string, unknown> }).settings.auto_recording = 'always'
  t.match(spec.checkRequest(always), [/body\/settings\/auto_recording must be equal to one of the allowed values \["local","cloud","none"\]/], 'auto_recording always: rejected')
  const duration = clone(post)
  ;(duration.body as Record<string, unknown>).duration = '45'
  t.match(spec.checkRequest(duration), [/body\/duration must be integer/], 'a duration as text: rejected')

  const answer = s.exchanges.find((x) => x.method === 'POST')
  const bad = clone(answer?.body) as { settings: Record<string, unknown> }
  t.strictSame(spec.checkResponse('POST', '/v2/users/me/meetings', 201, bad), [], 'the fake’s answer passes')
  bad.settings.auto_recording = 'sometimes'
  t.match(spec.checkResponse('POST', '/v2/users/me/meetings', 201, bad), [/settings\/auto_recording must be equal to one of the allowed values/], 'an unknown auto_recording in the answer: rejected')
})

t.test('Google: an insert without start, an event id outside base32hex, an unknown conference status', async (t) => {
  const spec = new Spec('google-calendar.json')
  const fake = await startGoogleFake()
  t.teardown(() => fake.close())
  const s = await session(fake, googleMeetProvider)
  await googleMeetProvider.meetings.create(s.api, futureMeeting(), {})
  const post = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/events')) as RecordedRequest
  t.strictSame(spec.checkRequest(post), [], 'the adapter’s insert passes')
  const noStart = clone(post)
  delete (noStart.body as Record<string, unknown>).start
  t.match(spec.checkRequest(noStart), [/body must have required property 'start'/], 'without start (required for events.insert): rejected')
  const badId = clone(post)
  ;(badId.body as Record<string, unknown>).id = 'vm-Not_Base32hex'
  t.match(spec.checkRequest(badId), [/body\/id must match pattern/], 'an id with characters outside a-v0-9: rejected')
  t.match(spec.checkRequest({ ...post, query: { ...post.query, conferenceDataVersion: '2' } }), [/query conferenceDataVersion must be <= 1/], 'conferenceDataVersion 2: rejected')
  t.match(spec.checkRequest({ ...post, query: { ...post.query, sendUpdates: 'nobody' } }), [/query sendUpdates must be equal to one of the allowed values/], 'sendUpdates nobody: rejected')

  const answer = s.exchanges.find((x) => x.method === 'POST' && x.status === 200)
  t.strictSame(spec.checkResponse('POST', answer?.url.pathname ?? '', 200, answer?.body), [], 'the fake’s answer passes')
  const bad = clone(answer?.body) as { conferenceData: { createRequest: { status: { statusCode: string } }; entryPoints: { entryPointType: string }[] } }
  bad.conferenceData.createRequest = { ...bad.conferenceData.createRequest, status: { statusCode: 'exploded' } }
  bad.conferenceData.entryPoints = [{ ...bad.conferenceData.entryPoints[0], entryPointType: 'hologram' }]
  const errors = spec.checkResponse('POST', answer?.url.pathname ?? '', 200, bad)
  t.ok(errors.some((e) => /createRequest\/status\/statusCode must be equal to one of the allowed values/.test(e)), 'statusCode exploded: rejected')
  t.ok(errors.some((e) => /entryPoints\/0\/entryPointType must be equal to one of the allowed values/.test(e)), 'entryPointType hologram: rejected')
  t.match(spec.checkResponse('DELETE', answer?.url.pathname + '/x', 204, { surprise: true }), [/defines no body/], 'a body on 204: rejected')
})

t.test('Graph: createOrGet without externalId, an unknown lobby scope in the answer', async (t) => {
  const spec = new Spec('microsoft-graph.json')
  const fake = await startMicrosoftFake()
  t.teardown(() => fake.close())
  const s = await session(fake, teamsProvider)
  await teamsProvider.meetings.create(s.api, futureMeeting(), { lobbyBypass: 'organizer', preferDirectLink: true })
  const post = fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/createOrGet')) as RecordedRequest
  t.strictSame(spec.checkRequest(post), [], 'the adapter’s createOrGet passes')
  const noExternal = clone(post)
  delete (noExternal.body as Record<string, unknown>).externalId
  t.match(spec.checkRequest(noExternal), [/body must have required property 'externalId'/], 'without externalId: rejected')
  const badDate = clone(post)
  ;(badDate.body as Record<string, unknown>).startDateTime = 'next Tuesday'
  t.ok(spec.checkRequest(badDate).some((e) => /startDateTime must match format "date-time"/.test(e)), 'a start that is no date-time: rejected')

  const answer = s.exchanges.find((x) => x.method === 'POST')
  t.strictSame(spec.checkResponse('POST', answer?.url.pathname ?? '', answer?.status ?? 0, answer?.body), [], 'the fake’s answer passes')
  const bad = clone(answer?.body) as { lobbyBypassSettings: Record<string, unknown> }
  bad.lobbyBypassSettings = { ...bad.lobbyBypassSettings, scope: 'nobody' }
  t.ok(spec.checkResponse('POST', answer?.url.pathname ?? '', 201, bad).some((e) => /lobbyBypassSettings\/scope must be equal to one of the allowed values/.test(e)), 'lobby scope nobody: rejected')
  t.match(spec.checkResponse('GET', '/v1.0/me/onlineMeetings/abc', 404, { message: 'gone' }), [/must have required property 'error'/], 'an error body not in the Graph error shape: rejected')
})

t.test('every fixture says where it comes from', async (t) => {
  for (const name of ['zoom.json', 'webex.json', 'microsoft-graph.json', 'google-calendar.json']) {
    const source = new Spec(name).fixture._source
    t.match(source, { repository: /^https:\/\/github\.com\//, path: String, commit: /^[0-9a-f]{40}$/, licence: String }, `${name}: repository, path, commit, licence`)
  }
})
