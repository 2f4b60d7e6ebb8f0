/**
 * Issue #8, "Hardening": provider faults end to end, at the level the user meets them.
 *
 * For each real provider (Zoom, Microsoft Teams, Google Meet, Webex: their fakes from test/fakes, endpoints
 * aimed at the fake through the <P>_* environment variables) and each fault kind (a hang longer than
 * PROVIDER_TIMEOUT_MS, a connection reset, garbage JSON, an HTML error page, 429 with Retry-After, 500, 503),
 * over HTTP (fastify inject, with the provider's sign-in pages fetched for real):
 *
 *   a) saving a follow-up with video on answers within the provider timeout plus a margin, without a 5xx, keeps
 *      everything the user typed and says "video link pending" in the app's own words; once the fault clears, the
 *      background sync makes exactly one meeting at the fake (also after a hang, where the fake made the meeting
 *      after the app stopped waiting: the lost create) and the follow-up shows its join link. 429: the job is not
 *      run before Retry-After.
 *   b) moving the follow-up, turning video off and deleting it under the same faults: the change is kept and
 *      applied exactly once when the fault clears.
 *   c) Configure (admin) and Connect (user) while the token endpoint hangs, resets, answers 5xx, HTML or garbage:
 *      a clear message, nothing stored, and trying again afterwards works.
 *   d) an expired access token while the token endpoint fails: the follow-up is kept, the state is clear, the
 *      connection is not stranded (the refresh succeeds later and the meeting is made). Zoom is the exception
 *      the provider imposes: it rotates refresh tokens and revokes the family when a spent one comes back, so a
 *      refresh whose answer was lost (hang) cannot be repeated; the user is told to reconnect, and Reconnect
 *      makes the meeting (see test/connections/token-manager.test.ts for the refresh itself).
 *
 * The matrix is generated (providers × faults); every assertion names its provider, fault and step.
 */
import './fast-scrypt.js'
import t, { type Test } from 'tap'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { en, type MessageKey } from '../../src/i18n/en.js'
import { sleep, type Knobs, type ProviderFake } from '../fakes/common.js'
import { startGoogleFake } from '../fakes/google.js'
import { startMicrosoftFake } from '../fakes/microsoft.js'
import { startWebexFake } from '../fakes/webex.js'
import { startZoomFake } from '../fakes/zoom.js'
import { ADMIN, Client, followUpForm, testApp } from '../helpers/app.js'
import { CONFIGURE } from '../helpers/configure.js'

/**
 * Every provider call gives up after this long. Small, but not so small that a healthy call times out while
 * `npm test` runs two test files at once on two cores (500 ms did, now and then).
 */
const TIMEOUT_MS = 1_000
/**
 * What a request may take beyond the provider timeout: about 50 ms measured with this file alone, up to 470 ms
 * beside other heavy test files on two cores.
 */
const MARGIN_MS = 1_000
/**
 * A hanging fake answers (and acts) after this long: past the timeout plus the margin, so a call that did not
 * give up at its timeout shows as a request slower than allowed.
 */
const HANG_MS = 2_500
const RETRY_AFTER_S = 120

// ---------------------------------------------------------------------------------------------------
// providers

interface ProviderCase {
  id: 'zoom' | 'teams' | 'google-meet' | 'webex'
  name: string
  start: () => Promise<ProviderFake>
  /** The meeting's title, join link and start (epoch ms) in the provider's own JSON shape. */
  title(m: Record<string, any>): string
  joinUrl(m: Record<string, any>): string
  startsAt(m: Record<string, any>): number
  /** The method the adapter updates a meeting with. */
  updateMethod: 'PATCH'
  /** Rotates refresh tokens and revokes the family when a spent one is presented again (Zoom). */
  strictRotation: boolean
  /**
   * The error code the fake's meeting API puts in its JSON error bodies, per status, as the reason shows it
   * ("" when it has none, or only repeats the status: Zoom's {"code": 429} is not said twice).
   */
  apiErrorCode: Record<429 | 500 | 503, string>
  /** The OAuth `error` of the fake token endpoint's 5xx bodies as the reason shows it ("" when none is said). */
  tokenErrorCode: string
}

const PROVIDERS: ProviderCase[] = [
  {
    id: 'zoom',
    name: 'Zoom',
    start: startZoomFake,
    title: (m) => m.topic,
    joinUrl: (m) => m.join_url,
    startsAt: (m) => Date.parse(m.start_time),
    updateMethod: 'PATCH',
    strictRotation: true,
    apiErrorCode: { 429: '', 500: '', 503: '' },
    // Its server_error (like Microsoft's temporarily_unavailable) only repeats "server error": not said.
    tokenErrorCode: '',
  },
  {
    id: 'teams',
    name: 'Microsoft Teams',
    start: startMicrosoftFake,
    title: (m) => m.subject,
    joinUrl: (m) => m.joinWebUrl,
    startsAt: (m) => Date.parse(m.startDateTime),
    updateMethod: 'PATCH',
    strictRotation: false,
    apiErrorCode: { 429: 'TooManyRequests', 500: 'generalException', 503: 'serviceNotAvailable' },
    tokenErrorCode: '',
  },
  {
    id: 'google-meet',
    name: 'Google Meet',
    start: startGoogleFake,
    title: (m) => m.summary,
    joinUrl: (m) => m.hangoutLink,
    startsAt: (m) => Date.parse(m.start.dateTime),
    updateMethod: 'PATCH',
    strictRotation: false,
    apiErrorCode: { 429: 'rateLimitExceeded', 500: 'backendError', 503: 'backendError' },
    tokenErrorCode: 'internal_failure',
  },
  {
    id: 'webex',
    name: 'Webex',
    start: startWebexFake,
    title: (m) => m.title,
    joinUrl: (m) => m.webLink,
    startsAt: (m) => Date.parse(m.start),
    updateMethod: 'PATCH',
    strictRotation: false,
    apiErrorCode: { 429: '', 500: '', 503: '' },
    tokenErrorCode: '',
  },
]

// ---------------------------------------------------------------------------------------------------
// faults

interface Fault {
  name: string
  set(k: Knobs): void
  /** The fake still acts on the request, after the app stopped waiting for it. */
  hang?: boolean
  /** Retry-After the fake sends, in seconds. */
  retryAfterS?: number
  /**
   * The reason the page gives, exactly (HTML-escaped as the page has it): what happened in plain words, the HTTP
   * status once, the provider's error code only where it has one, no internal prefix (connection ids and such).
   */
  reason(p: ProviderCase): RegExp
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A reason as a RegExp matching exactly that text. */
const exactly = (text: string) => new RegExp(escapeRe(text))
const withCode = (code: string) => (code ? `, error code ${code}` : '')

const API_FAULTS: Fault[] = [
  { name: 'hang', set: (k) => (k.apiDelayMs = HANG_MS), hang: true, reason: (p) => exactly(`${p.name} did not answer within 1 second`) },
  { name: 'connection reset', set: (k) => (k.resetConnection = 'api'), reason: (p) => exactly(`${p.name} could not be reached`) },
  { name: 'garbage JSON', set: (k) => (k.apiGarbageJson = true), reason: (p) => exactly(`${p.name} sent an answer that could not be read`) },
  { name: 'HTML error page', set: (k) => (k.apiHtmlBody = true), reason: (p) => exactly(`${p.name} answered with an error page, HTTP 502`) },
  {
    name: '429 with Retry-After',
    set: (k) => ((k.apiStatus = 429), (k.retryAfterSeconds = RETRY_AFTER_S)),
    retryAfterS: RETRY_AFTER_S,
    // Zoom's body is {"code": 429, ...}: the status is said once, not "answered 429 (429)".
    reason: (p) => exactly(`${p.name} reported too many requests, HTTP 429${withCode(p.apiErrorCode[429])}`),
  },
  { name: '500', set: (k) => (k.apiStatus = 500), reason: (p) => exactly(`${p.name} answered with a server error, HTTP 500${withCode(p.apiErrorCode[500])}`) },
  { name: '503', set: (k) => (k.apiStatus = 503), reason: (p) => exactly(`${p.name} answered with a server error, HTTP 503${withCode(p.apiErrorCode[503])}`) },
]

/**
 * Token endpoint faults, as the admin (Configure), the user (Connect) and a refresh (the meeting's pending
 * reason) read them. An HTML page or garbage JSON is an answer, not an unreachable provider: said as such, and
 * still retried (a passing proxy or gateway fault).
 */
const TOKEN_FAULTS: Fault[] = [
  { name: 'hang', set: (k) => (k.tokenDelayMs = HANG_MS), hang: true, reason: (p) => exactly(`${p.name} did not answer within 1 second`) },
  { name: 'connection reset', set: (k) => (k.resetConnection = 'token'), reason: (p) => exactly(`${p.name} could not be reached`) },
  { name: '500', set: (k) => (k.tokenStatus5xx = 500), reason: (p) => exactly(`${p.name} answered with a server error, HTTP 500${withCode(p.tokenErrorCode)}`) },
  { name: '503', set: (k) => (k.tokenStatus5xx = 503), reason: (p) => exactly(`${p.name} answered with a server error, HTTP 503${withCode(p.tokenErrorCode)}`) },
  { name: 'HTML error page', set: (k) => (k.tokenHtmlBody = true), reason: (p) => exactly(`${p.name} answered with an error page, HTTP 502`) },
  { name: 'garbage JSON', set: (k) => (k.tokenGarbageJson = true), reason: (p) => exactly(`${p.name} sent an answer that could not be read`) },
]

/**
 * What no reason a page gives may contain: internal prefixes, jargon, the old wording, a status said twice, the
 * stored form (raw JSON, escaped or not).
 */
const NOT_SAID = [/refreshing connection/, /connection \d+/, /token endpoint/, /the provider answered/, /no answer within \d+ ms/, /\b(\d{3}) \(\1\)/, /[{}]/, /&quot;/]

/** The sentences that carry a reason ({reason}, or {detail} for the sign-in), per the English catalog. */
const REASON_SENTENCES: MessageKey[] = ['meeting.pendingRetry', 'meeting.changePending', 'meeting.cancelRetry', 'video.error.token']

/**
 * Every reason the page gives is clean. A reason is what stands exactly where a sentence above has its {reason}
 * (or {detail}): the catalog's text before and after it must be there word for word (other placeholders, such as
 * {provider}, stand for a name), so the reason is neither cut short nor run on.
 */
function checkClean(t: Test, what: string, body: string): void {
  const literal = (text: string) => text.split(/\{\w+\}/).map((part) => escapeRe(escapeHtml(part))).join('[^<]+?')
  const reasons = REASON_SENTENCES.flatMap((key) => {
    const [before = '', after = ''] = en[key].split(/\{(?:reason|detail)\}/)
    return [...body.matchAll(new RegExp(`${literal(before)}([^<]*?)${literal(after)}`, 'g'))].map((m) => m[1]!)
  })
  t.ok(reasons.length > 0, `${what}: the page gives a reason`)
  for (const reason of reasons) {
    t.ok(reason.trim().length > 0, `${what}: the reason is not empty`)
    const bad = NOT_SAID.find((re) => re.test(reason))
    t.notOk(bad, `${what}: the reason "${reason}" is clean${bad ? ` (says ${bad})` : ''}`)
  }
}

// ---------------------------------------------------------------------------------------------------
// helpers

/** A Client that remembers every answer, so a scenario can say "no 5xx anywhere". */
class Browser extends Client {
  answers: { method: string; url: string; status: number }[] = []

  override async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await super.request(options)
    this.answers.push({ method: options.method ?? 'GET', url: String(options.url), status: res.statusCode })
    return res
  }

  /** Answers of status 500 and above since `from` (an index into answers). */
  serverErrors(from = 0): string[] {
    return this.answers.slice(from).filter((a) => a.status >= 500).map((a) => `${a.method} ${a.url} → ${a.status}`)
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
/**
 * The English catalog's text for `key` as it appears in a page (HTML-escaped), as a RegExp: string values are
 * literal, RegExp values stand for a variable part (e.g. a provider's error detail).
 */
function said(key: MessageKey, values: Record<string, string | RegExp> = {}): RegExp {
  const parts = en[key].split(/(\{\w+\})/)
  const source = parts
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1]
      if (name === undefined) return escapeRe(escapeHtml(part))
      const value = values[name]
      if (value === undefined) throw new Error(`said(${key}): no value for {${name}}`)
      return typeof value === 'string' ? escapeRe(escapeHtml(value)) : `(?:${value.source})`
    })
    .join('')
  return new RegExp(source)
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await work()
  return { value, ms: Math.round(performance.now() - started) }
}

/** The form a user fills in; `title` is unique per scenario so the fake's meetings can be told apart. */
function form(title: string, over: Record<string, string> = {}): Record<string, string> {
  return followUpForm({ title, location: 'Room 4', description: `Agenda of ${title}`, ...over })
}

/** Amsterdam is UTC+1 in March 2030. */
const utc = (local: string) => new Date(`${local}:00+01:00`).toISOString()

interface World {
  app: FastifyInstance
  fake: ProviderFake
  provider: ProviderCase
  admin: Browser
  bob: Browser
  bobId: number
  /** Collected durations, for the summary line. */
  durations: number[]
}

/** The provider's meetings (in its own shape) with this title. */
const meetingsTitled = (w: World, title: string) => [...w.fake.meetings.values()].filter((m) => w.provider.title(m) === title)

/** Every request the fake received after `mark` (an index into fake.requests). */
const requestsSince = (w: World, mark: number) => w.fake.requests.slice(mark)

const isTokenRequest = (path: string) => /\/(token|access_token)$/.test(path)

/** Requests to the meeting API for one meeting id, after `mark`. */
function callsOnMeeting(w: World, mark: number, id: string, method: string): number {
  return requestsSince(w, mark).filter((r) => r.method === method && decodeURIComponent(r.path).endsWith(`/${id}`)).length
}

function meetingRow(w: World, followUpId: number) {
  return w.app.db.prepare('SELECT state, last_error, external_id, join_url, synced_version, create_unknown FROM meetings WHERE follow_up_id = ?').get(followUpId) as
    | { state: string; last_error: string; external_id: string; join_url: string; synced_version: number; create_unknown: number }
    | undefined
}

function jobOf(w: World, followUpId: number) {
  return w.app.db.prepare('SELECT run_at, attempts, last_error FROM jobs WHERE follow_up_id = ?').get(followUpId) as { run_at: number; attempts: number; last_error: string } | undefined
}

/** Time passes until the follow-up's job is due (as the worker would see it after its backoff). */
function makeDue(w: World, followUpId: number): void {
  w.app.db.prepare('UPDATE jobs SET run_at = ? WHERE follow_up_id = ?').run(Date.now(), followUpId)
}

/**
 * The fault clears: knobs back to normal. After a hang, the fake first finishes what it was still doing: every
 * hanging request began at least TIMEOUT_MS before the app's answer (it waited for it), so it acts within
 * HANG_MS - TIMEOUT_MS of that answer.
 */
async function clear(w: World, fault: Fault): Promise<void> {
  if (fault.hang) await sleep(HANG_MS - TIMEOUT_MS + 300)
  w.fake.reset()
}

const idFrom = (location: unknown) => Number(/\/follow-ups\/(\d+)$/.exec(String(location))?.[1] ?? NaN)

/** Follows a redirect to the fake's sign-in page and back to the app, as the browser would. */
async function throughProvider(client: Browser, authorizeUrl: string): Promise<{ callback: string; res: LightMyRequestResponse; ms: number }> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' })
  const location = res.headers.get('location')
  if (!location) throw new Error(`the provider did not send the browser back (${res.status})`)
  const back = new URL(location)
  const callback = back.pathname + back.search
  const { value, ms } = await timed(() => client.get(callback))
  return { callback, res: value, ms }
}

/** Bob saves a follow-up with video on while already connected, checking the answer is quick and not a 5xx. */
async function save(t: Test, w: World, what: string, title: string, over: Record<string, string> = {}): Promise<number> {
  await w.bob.get('/follow-ups/new')
  const { value: res, ms } = await timed(() => w.bob.post('/follow-ups', form(title, over)))
  w.durations.push(ms)
  t.equal(res.statusCode, 303, `${what}: the save answers 303, not ${res.statusCode}`)
  t.ok(ms <= TIMEOUT_MS + MARGIN_MS, `${what}: the save answered in ${ms} ms (limit ${TIMEOUT_MS} + ${MARGIN_MS})`)
  const id = idFrom(res.headers.location)
  t.ok(Number.isInteger(id), `${what}: redirected to the follow-up (${String(res.headers.location)})`)
  return id
}

/** Everything Bob typed is stored as typed. */
function checkStored(t: Test, w: World, what: string, id: number, title: string, over: Record<string, string> = {}): void {
  const f = w.app.services.followUps.getForUser(id, w.bobId)
  t.ok(f, `${what}: the follow-up is stored`)
  if (!f) return
  const typed = form(title, over)
  t.equal(f.title, typed.title, `${what}: title kept`)
  t.equal(f.description, typed.description, `${what}: description kept`)
  t.equal(f.startsAt, utc(typed.start!), `${what}: start kept`)
  t.equal(f.endsAt, utc(typed.end!), `${what}: end kept`)
  t.equal(f.timeZone, typed.timeZone, `${what}: time zone kept`)
  t.equal(f.location, typed.location, `${what}: location kept`)
  t.same(f.attendees, typed.attendees!.split('\n'), `${what}: attendees kept`)
  t.equal(f.video, typed.video === 'true', `${what}: video switch kept`)
}

/** The follow-up page shows the meeting's join link (and no pending notice). */
async function checkJoinLink(t: Test, w: World, what: string, id: number, meeting: Record<string, any>): Promise<void> {
  const page = await w.bob.get(`/follow-ups/${id}`)
  t.equal(page.statusCode, 200, `${what}: the follow-up page answers 200`)
  t.match(page.body, said('meeting.join'), `${what}: the page offers "${en['meeting.join']}"`)
  t.match(page.body, `value="${escapeHtml(w.provider.joinUrl(meeting))}" readonly`, `${what}: the page shows the fake's join link`)
  t.notMatch(page.body, /Video link pending/, `${what}: no longer pending`)
}

/** A signed-in browser for a new user Bob, added through the admin form. */
async function addBob(app: FastifyInstance, admin: Browser): Promise<{ bob: Browser; bobId: number }> {
  const password = 'a long enough password'
  const added = await admin.submit('/settings/users', '/settings/users', { role: 'user', language: 'en', name: 'Bob', email: 'bob@example.com', password })
  if (added.statusCode !== 303) throw new Error(`adding Bob answered ${added.statusCode}`)
  const bob = new Browser(app)
  const signIn = await bob.submit('/sign-in', '/sign-in', { email: 'bob@example.com', password })
  if (signIn.statusCode !== 303) throw new Error(`Bob's sign-in answered ${signIn.statusCode}`)
  return { bob, bobId: app.services.users.findByEmailWithHash('bob@example.com')!.id }
}

const count = (app: FastifyInstance, sql: string, ...params: unknown[]) => app.db.prepare(sql).pluck().get(...params) as number

// ---------------------------------------------------------------------------------------------------
// c) Configure and Connect while the token endpoint fails

async function configureUnderTokenFaults(t: Test, w: World): Promise<void> {
  const { app, fake, admin, provider } = w
  for (const [i, fault] of TOKEN_FAULTS.entries()) {
    const what = `${provider.name} Configure, token endpoint ${fault.name}`
    const answersBefore = admin.answers.length
    fake.reset()
    fault.set(fake.knobs)
    await admin.get(CONFIGURE)
    const start = await admin.post(`${CONFIGURE}/${provider.id}`)
    t.equal(start.statusCode, 303, `${what}: Choose ${provider.name} sends the admin to the provider`)
    const { res, ms } = await throughProvider(admin, String(start.headers.location))
    w.durations.push(ms)
    t.equal(res.statusCode, 303, `${what}: the callback answers 303, not ${res.statusCode}`)
    t.ok(ms <= TIMEOUT_MS + MARGIN_MS, `${what}: the callback answered in ${ms} ms (limit ${TIMEOUT_MS} + ${MARGIN_MS})`)
    t.equal(res.headers.location, CONFIGURE, `${what}: back on the Configure page`)
    const page = await admin.get(CONFIGURE)
    t.match(page.body, said('video.error.token', { provider: provider.name, detail: fault.reason(provider) }), `${what}: the admin reads "${en['video.error.token']}" with the reason`)
    checkClean(t, what, page.body)
    t.match(page.body, said('video.configure.choose', { provider: provider.name }), `${what}: the provider can be chosen again`)
    t.equal(count(app, 'SELECT COUNT(*) FROM organization_provider'), 0, `${what}: no organization configuration stored`)
    t.equal(count(app, "SELECT COUNT(*) FROM audit_log WHERE action IN ('video.connect', 'video.reconnect')"), i, `${what}: no connect recorded in the audit log`)

    // The fault clears: trying again works.
    await clear(w, fault)
    await admin.get(CONFIGURE)
    const again = await admin.post(`${CONFIGURE}/${provider.id}`)
    const retried = await throughProvider(admin, String(again.headers.location))
    t.equal(retried.res.headers.location, CONFIGURE, `${what}: after the fault, the callback lands on Configure`)
    const done = await admin.get(CONFIGURE)
    t.match(done.body, said('video.configured.heading'), `${what}: after the fault, "${en['video.configured.heading']}" is shown`)
    t.equal(count(app, 'SELECT COUNT(*) FROM organization_provider'), 1, `${what}: after the fault, configured`)
    t.same(admin.serverErrors(answersBefore), [], `${what}: no 5xx on any page`)
    // Start over for the next fault; the last configuration stays for the rest of the tests.
    if (i < TOKEN_FAULTS.length - 1) {
      await admin.get('/settings/video-meetings/disconnect')
      await admin.post('/settings/video-meetings/disconnect')
      t.equal(count(app, 'SELECT COUNT(*) FROM organization_provider'), 0, `${what}: disconnected for the next case`)
    }
  }
}

async function connectUnderTokenFaults(t: Test, w: World): Promise<void> {
  const { app, fake, bob, provider } = w
  for (const [i, fault] of TOKEN_FAULTS.entries()) {
    const what = `${provider.name} Connect (first use), token endpoint ${fault.name}`
    const answersBefore = bob.answers.length
    const title = `First use, ${fault.name}`
    fake.reset()
    fault.set(fake.knobs)
    await bob.get('/follow-ups/new')
    const saved = await bob.post('/follow-ups', form(title))
    t.equal(saved.statusCode, 303, `${what}: the save answers 303`)
    const authorize = String(saved.headers.location)
    t.ok(authorize.startsWith(fake.url), `${what}: Bob is sent to ${provider.name} to connect`)
    const id = count(app, 'SELECT MAX(id) FROM follow_ups')
    checkStored(t, w, `${what}, before connecting`, id, title)

    const { res, ms } = await throughProvider(bob, authorize)
    w.durations.push(ms)
    t.equal(res.statusCode, 303, `${what}: the callback answers 303, not ${res.statusCode}`)
    t.ok(ms <= TIMEOUT_MS + MARGIN_MS, `${what}: the callback answered in ${ms} ms (limit ${TIMEOUT_MS} + ${MARGIN_MS})`)
    t.equal(res.headers.location, `/follow-ups/${id}`, `${what}: back on the follow-up`)
    const page = await bob.get(`/follow-ups/${id}`)
    t.match(page.body, said('video.error.token', { provider: provider.name, detail: fault.reason(provider) }), `${what}: Bob reads "${en['video.error.token']}" with the reason`)
    checkClean(t, what, page.body)
    t.match(page.body, said('meeting.notConnected', { provider: provider.name }), `${what}: the meeting panel says to connect`)
    t.match(page.body, said('meeting.connect', { provider: provider.name }), `${what}: with a Connect button`)
    t.equal(count(app, 'SELECT COUNT(*) FROM user_connections'), 0, `${what}: no connection row stored`)
    checkStored(t, w, `${what}, after the failed sign-in`, id, title)
    t.equal(meetingsTitled(w, title).length, 0, `${what}: no meeting yet`)

    await clear(w, fault)
    const connect = await bob.post('/preferences/video-meetings/connect', { returnTo: `/follow-ups/${id}` })
    const retried = await throughProvider(bob, String(connect.headers.location))
    t.equal(retried.res.headers.location, `/follow-ups/${id}`, `${what}: after the fault, Connect lands on the follow-up`)
    t.equal(count(app, "SELECT COUNT(*) FROM user_connections WHERE status = 'connected'"), 1, `${what}: after the fault, connected`)
    const made = meetingsTitled(w, title)
    t.equal(made.length, 1, `${what}: after the fault, exactly one meeting at ${provider.name}`)
    if (made[0]) await checkJoinLink(t, w, `${what}, after the fault`, id, made[0])
    t.same(bob.serverErrors(answersBefore), [], `${what}: no 5xx on any page`)
    // Disconnected again for the next fault; Bob stays connected after the last one.
    if (i < TOKEN_FAULTS.length - 1) {
      await bob.get('/preferences/video-meetings')
      await bob.post('/preferences/video-meetings/disconnect')
      t.equal(count(app, 'SELECT COUNT(*) FROM user_connections'), 0, `${what}: disconnected for the next case`)
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// a) saving a follow-up while the meeting API fails

async function createUnderApiFaults(t: Test, w: World): Promise<void> {
  const { app, fake, bob, provider } = w
  for (const fault of API_FAULTS) {
    const what = `${provider.name} save, meeting API ${fault.name}`
    const title = `Create under ${fault.name}`
    const answersBefore = bob.answers.length
    fake.reset()
    fault.set(fake.knobs)
    const savedAt = Date.now()
    const id = await save(t, w, what, title)
    checkStored(t, w, what, id, title)

    const page = await bob.get(`/follow-ups/${id}`)
    t.equal(page.statusCode, 200, `${what}: the follow-up page answers 200`)
    t.match(page.body, escapeHtml(title), `${what}: the page shows the follow-up`)
    t.match(page.body, said('meeting.pendingRetry', { provider: provider.name, reason: fault.reason(provider) }), `${what}: the page says "${en['meeting.pendingRetry']}" with the reason`)
    checkClean(t, what, page.body)
    t.match(page.body, said('meeting.retryNow'), `${what}: with "${en['meeting.retryNow']}"`)
    t.notMatch(page.body, said('meeting.join'), `${what}: no join link yet`)
    t.match(meetingRow(w, id), { state: 'pending' }, `${what}: the meeting is pending`)
    const job = jobOf(w, id)
    t.ok(job, `${what}: a retry is queued`)
    t.notMatch(job?.last_error ?? '', /internal error/, `${what}: classified as a provider fault, not an internal error`)

    if (fault.retryAfterS) {
      const wait = (job?.run_at ?? 0) - savedAt
      t.ok(wait >= fault.retryAfterS * 1000 - 1000, `${what}: the retry waits for Retry-After (${Math.round(wait / 1000)} s ≥ ${fault.retryAfterS} s)`)
      // The worker runs meanwhile: the job is not due, the provider hears nothing.
      const mark = fake.requests.length
      await app.services.meetings.runDue()
      t.equal(fake.requests.length - mark, 0, `${what}: not retried before Retry-After`)
    }

    await clear(w, fault)
    if (fault.hang) {
      t.equal(meetingsTitled(w, title).length, 1, `${what}: the fake made the meeting after the app stopped waiting (the lost create)`)
    } else {
      t.equal(meetingsTitled(w, title).length, 0, `${what}: the fake made no meeting during the fault`)
    }
    makeDue(w, id)
    await app.services.meetings.runDue()
    const made = meetingsTitled(w, title)
    t.equal(made.length, 1, `${what}: exactly one meeting at ${provider.name} after the fault (found ${made.length})`)
    t.match(meetingRow(w, id), { state: 'ready', create_unknown: 0 }, `${what}: the meeting is ready`)
    t.notOk(jobOf(w, id), `${what}: no job left (${jobOf(w, id)?.last_error ?? ''})`)
    if (made[0]) {
      await checkJoinLink(t, w, what, id, made[0])
      t.equal(meetingRow(w, id)?.join_url, provider.joinUrl(made[0]), `${what}: the stored link is the fake's`)
    }
    const mark = fake.requests.length
    makeDue(w, id)
    await app.services.meetings.runDue()
    t.equal(fake.requests.length - mark, 0, `${what}: nothing more to do afterwards`)
    t.same(bob.serverErrors(answersBefore), [], `${what}: no 5xx on any page`)
  }
}

// ---------------------------------------------------------------------------------------------------
// b) moving, video off and deleting while the meeting API fails

type Change = 'move' | 'video off' | 'delete'
const CHANGES: Change[] = ['move', 'video off', 'delete']

async function changeUnderApiFaults(t: Test, w: World): Promise<void> {
  const { app, fake, bob, provider } = w
  for (const change of CHANGES) {
    for (const fault of API_FAULTS) {
      const what = `${provider.name} ${change}, meeting API ${fault.name}`
      const title = `${change} under ${fault.name}`
      fake.reset()
      const id = await save(t, w, `${what} (set-up)`, title)
      const [meeting] = meetingsTitled(w, title)
      if (!meeting) {
        t.fail(`${what}: set-up made no meeting`)
        continue
      }
      const meetingId = String(meeting.id)
      const link = provider.joinUrl(meeting)
      const answersBefore = bob.answers.length
      fault.set(fake.knobs)

      const moved = form(`${title} (moved)`, { start: '2030-03-05T14:00', end: '2030-03-05T15:30' })
      await bob.get(`/follow-ups/${id}/edit`)
      const { value: res, ms } = await timed(() =>
        change === 'delete'
          ? bob.post(`/follow-ups/${id}/delete`)
          : bob.post(`/follow-ups/${id}`, change === 'move' ? moved : form(title, { video: '' })),
      )
      w.durations.push(ms)
      t.equal(res.statusCode, 303, `${what}: answers 303, not ${res.statusCode}`)
      t.ok(ms <= TIMEOUT_MS + MARGIN_MS, `${what}: answered in ${ms} ms (limit ${TIMEOUT_MS} + ${MARGIN_MS})`)

      // The change is kept, and the user can tell it has not reached the provider yet.
      if (change === 'delete') {
        t.equal(res.headers.location, '/follow-ups', `${what}: back to the list`)
        const list = await bob.get('/follow-ups')
        t.match(list.body, said('followUps.deleted'), `${what}: "${en['followUps.deleted']}"`)
        t.notMatch(list.body, escapeHtml(title), `${what}: gone from the list`)
        t.equal((await bob.get(`/follow-ups/${id}`)).statusCode, 404, `${what}: the follow-up is gone for Bob`)
      } else {
        const page = await bob.get(`/follow-ups/${id}`)
        t.equal(page.statusCode, 200, `${what}: the follow-up page answers 200`)
        if (change === 'move') {
          checkStored(t, w, what, id, `${title} (moved)`, { start: '2030-03-05T14:00', end: '2030-03-05T15:30' })
          t.match(page.body, escapeHtml(`${title} (moved)`), `${what}: the page shows the new title`)
          t.match(page.body, said('meeting.changePending', { provider: provider.name, reason: fault.reason(provider) }), `${what}: the page says "${en['meeting.changePending']}"`)
          checkClean(t, what, page.body)
          t.match(page.body, `value="${escapeHtml(link)}" readonly`, `${what}: the join link stays (updates keep it)`)
        } else {
          checkStored(t, w, what, id, title, { video: '' })
          t.match(page.body, said('meeting.cancelRetry', { provider: provider.name, reason: fault.reason(provider) }), `${what}: the page says "${en['meeting.cancelRetry']}"`)
          checkClean(t, what, page.body)
          t.notMatch(page.body, said('meeting.join'), `${what}: no join link offered for a follow-up without video`)
          t.notMatch(page.body, escapeHtml(link), `${what}: the old link is not shown`)
          const ics = await bob.get(`/follow-ups/${id}/invite.ics`)
          t.equal(ics.statusCode, 200, `${what}: the .ics downloads`)
          t.notMatch(ics.body, link.slice(0, 40), `${what}: the .ics carries no join link`)
        }
        t.match(page.body, said('meeting.retryNow'), `${what}: with "${en['meeting.retryNow']}"`)
      }
      t.ok(jobOf(w, id), `${what}: a retry is queued`)
      t.notMatch(jobOf(w, id)?.last_error ?? '', /internal error/, `${what}: classified as a provider fault`)

      await clear(w, fault)
      const mark = fake.requests.length
      makeDue(w, id)
      await app.services.meetings.runDue()
      if (change === 'move') {
        const now = fake.meetings.get(meetingId)
        t.ok(now, `${what}: the meeting still exists`)
        t.equal(now && provider.title(now), `${title} (moved)`, `${what}: the meeting has the new title`)
        t.equal(now && provider.startsAt(now), Date.parse(utc('2030-03-05T14:00')), `${what}: the meeting has the new start`)
        t.equal(callsOnMeeting(w, mark, meetingId, provider.updateMethod), 1, `${what}: updated exactly once after the fault`)
        t.equal(meetingsTitled(w, title).length + meetingsTitled(w, `${title} (moved)`).length, 1, `${what}: still one meeting`)
        t.match(meetingRow(w, id), { state: 'ready', external_id: meetingId }, `${what}: the same meeting, ready`)
        await checkJoinLink(t, w, `${what}, after the fault`, id, now ?? meeting)
        t.notMatch((await bob.get(`/follow-ups/${id}`)).body, /have not reached/, `${what}: the change is no longer pending`)
      } else {
        t.notOk(fake.meetings.has(meetingId), `${what}: the meeting is gone at ${provider.name}`)
        t.equal(callsOnMeeting(w, mark, meetingId, 'DELETE'), 1, `${what}: deleted exactly once after the fault`)
        if (change === 'delete') t.equal(count(app, 'SELECT COUNT(*) FROM follow_ups WHERE id = ?', id), 0, `${what}: the follow-up is purged once its meeting is gone`)
        else {
          t.match(meetingRow(w, id), { state: 'deleted' }, `${what}: the meeting is marked deleted`)
          t.notMatch((await bob.get(`/follow-ups/${id}`)).body, /not cancelled at/, `${what}: the cancellation is no longer pending`)
        }
      }
      t.notOk(jobOf(w, id), `${what}: no job left (${jobOf(w, id)?.last_error ?? ''})`)
      const after = fake.requests.length
      await app.services.meetings.runDue()
      t.equal(fake.requests.length - after, 0, `${what}: nothing more to do afterwards`)
      t.same(bob.serverErrors(answersBefore), [], `${what}: no 5xx on any page`)
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// d) an expired access token while the token endpoint fails

async function refreshUnderTokenFaults(t: Test, w: World): Promise<void> {
  const { app, fake, bob, provider } = w
  for (const fault of TOKEN_FAULTS) {
    const what = `${provider.name} save with an expired token, token endpoint ${fault.name}`
    const title = `Refresh under ${fault.name}`
    const answersBefore = bob.answers.length
    fake.reset()
    fake.expireAccessTokensNow()
    fault.set(fake.knobs)
    const mark = fake.requests.length
    const id = await save(t, w, what, title)
    checkStored(t, w, what, id, title)
    t.ok(requestsSince(w, mark).some((r) => isTokenRequest(r.path)), `${what}: a refresh was tried`)
    const page = await bob.get(`/follow-ups/${id}`)
    t.equal(page.statusCode, 200, `${what}: the follow-up page answers 200`)
    t.match(page.body, said('meeting.pendingRetry', { provider: provider.name, reason: fault.reason(provider) }), `${what}: the page says "${en['meeting.pendingRetry']}" with the reason`)
    checkClean(t, what, page.body)
    const connection = app.db.prepare('SELECT status, refresh_lease_until FROM user_connections').get() as { status: string; refresh_lease_until: number }
    t.match(connection, { status: 'connected', refresh_lease_until: 0 }, `${what}: the connection is still connected and its refresh lease released`)
    t.equal(meetingsTitled(w, title).length, 0, `${what}: no meeting during the fault`)

    await clear(w, fault)
    makeDue(w, id)
    await app.services.meetings.runDue()
    if (fault.hang && provider.strictRotation) {
      // The fake rotated the refresh token after the app stopped waiting: the token the app holds is spent, and
      // presenting it revokes the family. Nothing can repeat that refresh; the user must sign in again.
      const after = await bob.get(`/follow-ups/${id}`)
      t.match(after.body, said('meeting.needsReconnect', { provider: provider.name }), `${what}: the lost rotation asks Bob to reconnect`)
      t.match(after.body, said('meeting.reconnect'), `${what}: with a Reconnect button`)
      t.match((await bob.get('/preferences/video-meetings')).body, said('connection.statusNeedsReconnect'), `${what}: Preferences say "${en['connection.statusNeedsReconnect']}"`)
      const reconnect = await bob.post('/preferences/video-meetings/connect', { returnTo: `/follow-ups/${id}` })
      const back = await throughProvider(bob, String(reconnect.headers.location))
      t.equal(back.res.headers.location, `/follow-ups/${id}`, `${what}: Reconnect lands on the follow-up`)
      t.equal(count(app, "SELECT COUNT(*) FROM user_connections WHERE status = 'connected'"), 1, `${what}: connected again`)
    }
    const made = meetingsTitled(w, title)
    t.equal(made.length, 1, `${what}: exactly one meeting after the fault (found ${made.length})`)
    t.match(meetingRow(w, id), { state: 'ready' }, `${what}: the meeting is ready`)
    if (made[0]) await checkJoinLink(t, w, what, id, made[0])
    t.equal(count(app, "SELECT COUNT(*) FROM user_connections WHERE status = 'connected'"), 1, `${what}: the connection is not stranded`)
    t.same(bob.serverErrors(answersBefore), [], `${what}: no 5xx on any page`)
  }
}

// ---------------------------------------------------------------------------------------------------

// The four providers share nothing (own fake, own app, own database): they run side by side. Most of the time
// goes to waiting for timeouts and hangs, not to the CPU.
t.jobs = PROVIDERS.length
for (const provider of PROVIDERS) {
  t.test(`${provider.name}: provider faults end to end`, { buffered: true }, async (t) => {
    const fake = await provider.start()
    t.teardown(() => fake.close())
    const app = await testApp(t, { ...fake.env, PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS) }, { startWorkers: false })
    const admin = new Browser(app)
    const setup = await admin.submit('/setup', '/setup', ADMIN)
    if (setup.statusCode !== 303) throw new Error(`setup answered ${setup.statusCode}`)
    const w: World = { app, fake, provider, admin, bob: admin, bobId: 0, durations: [] }

    await t.test('c) Configure while the token endpoint fails', (t) => configureUnderTokenFaults(t, w))
    Object.assign(w, await addBob(app, admin))
    await t.test('c) Connect on first use while the token endpoint fails', (t) => connectUnderTokenFaults(t, w))
    await t.test('a) saving a follow-up while the meeting API fails', (t) => createUnderApiFaults(t, w))
    await t.test('b) moving, video off and deleting while the meeting API fails', (t) => changeUnderApiFaults(t, w))
    await t.test('d) an expired token while the token endpoint fails', (t) => refreshUnderTokenFaults(t, w))
    t.comment(`${provider.name}: ${w.durations.length} requests under faults, slowest ${Math.max(...w.durations)} ms (timeout ${TIMEOUT_MS} ms)`)
  })
}
