import crypto from 'node:crypto'
import net from 'node:net'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { ProviderError } from '../src/providers/contract.js'
import { createApiClient } from '../src/providers/http.js'
import { createSandboxProvider } from '../src/sandbox/adapter.js'
import { sandboxClient, sandboxEndpoints, sandboxIssuer } from '../src/sandbox/endpoints.js'
import { sandboxPlugin } from '../src/sandbox/plugin.js'
import { setUpAdmin, tempDir } from './helpers/app.js'

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

// One app for the whole file, listening for real: the flow is driven over HTTP with fetch, as a browser and
// the app's own OAuth client would.
const port = await freePort()
const baseUrl = `http://127.0.0.1:${port}`
const config = loadConfig({ DATA_DIR: tempDir(t), LOG_LEVEL: 'silent', SANDBOX: '1', PORT: String(port), BASE_URL: baseUrl })
const app = await buildApp(config)
let clockOffsetMs = 0
// buildApp registers the sandbox when SANDBOX=1; if it did not, the test registers it with a clock it can move.
const ownClock = !app.hasRoute({ method: 'POST', url: '/sandbox/oauth/token' })
if (ownClock) await app.register(sandboxPlugin, { baseUrl, masterSecret: app.masterSecret, db: app.db, now: () => Date.now() + clockOffsetMs })
await app.listen({ port, host: '127.0.0.1' })
t.teardown(() => app.close())
await setUpAdmin(app)

const client = sandboxClient(baseUrl, app.masterSecret)
const issuer = sandboxIssuer(baseUrl)
const endpoints = sandboxEndpoints(baseUrl, config.providers.internalUrl)

/** Lets every authorization code issued so far run out (the clock, or the row when the app owns the clock). */
function expireCodes(): void {
  if (ownClock) clockOffsetMs += 61_000
  else app.db.prepare('UPDATE sandbox_authorization_codes SET expires_at = 0').run()
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" }
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ENTITIES[e]!)

interface Page {
  status: number
  headers: Headers
  text: string
  location: string | null
}

/** A browser stand-in over real HTTP: keeps cookies, submits forms with their hidden fields. */
class Browser {
  cookies = new Map<string, string>()

  constructor(readonly language = 'en') {}

  async fetch(url: string, init: RequestInit = {}): Promise<Page> {
    const headers = new Headers(init.headers)
    headers.set('accept-language', this.language)
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const res = await fetch(new URL(url, baseUrl), { ...init, headers, redirect: 'manual' })
    for (const set of res.headers.getSetCookie()) {
      const pair = set.split(';', 1)[0]!
      const eq = pair.indexOf('=')
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1))
    }
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location') }
  }

  get(url: string): Promise<Page> {
    return this.fetch(url)
  }

  post(url: string, form: Record<string, string | string[]>): Promise<Page> {
    const body = new URLSearchParams()
    for (const [key, value] of Object.entries(form)) for (const v of [value].flat()) body.append(key, v)
    return this.fetch(url, { method: 'POST', body })
  }
}

function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[decode(m[1]!)] = decode(m[2]!)
  return fields
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url')
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') }
}

function authorizeUrl(overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: client.redirectUri,
    scope: 'profile meetings',
    state: 'st-' + crypto.randomBytes(8).toString('hex'),
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...overrides,
  }
  const url = new URL(endpoints.authorizeUrl)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  return url.href
}

/** Follows the consent page: GET it, then post its form as the person would. */
async function consent(
  browser: Browser,
  url: string,
  answer: { email?: string; name?: string; grant?: string[]; decision: 'allow' | 'deny' },
): Promise<Page> {
  const page = await browser.get(url)
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}`)
  return browser.post('/sandbox/oauth/authorize', {
    ...hiddenFields(page.text),
    email: answer.email ?? 'sam@example.com',
    name: answer.name ?? 'Sam Sandbox',
    grant: answer.grant ?? ['profile', 'meetings'],
    decision: answer.decision,
  })
}

function query(location: string | null): URLSearchParams {
  if (!location) throw new Error('no redirect')
  const url = new URL(location)
  if (`${url.origin}${url.pathname}` !== client.redirectUri) throw new Error(`redirected elsewhere: ${location}`)
  return url.searchParams
}

async function tokenRequest(form: Record<string, string>, auth: 'body' | 'basic' | 'none' = 'body') {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const body = new URLSearchParams(form)
  if (auth === 'body') {
    body.set('client_id', client.id)
    body.set('client_secret', client.secret)
  } else if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`
  }
  const res = await fetch(endpoints.tokenUrl, { method: 'POST', headers, body })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> }
}

async function revoke(token: string) {
  const res = await fetch(endpoints.revokeUrl!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: client.id, client_secret: client.secret }),
  })
  return res.status
}

async function api(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${endpoints.apiUrl}/${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Record<string, unknown> }
}

/** The whole grant: consent, code, token exchange. */
async function connect(answer: { email?: string; name?: string; grant?: string[] } = {}) {
  const { verifier, challenge } = pkce()
  const res = await consent(new Browser(), authorizeUrl({ code_challenge: challenge }), { ...answer, decision: 'allow' })
  const code = query(res.location).get('code')!
  const tokens = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier })
  if (tokens.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(tokens.body)}`)
  return tokens.body as { access_token: string; refresh_token: string; scope: string }
}

/** The ProviderError a call fails with (anything else fails the test). */
async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ProviderError) return error
    throw error
  }
  throw new Error('expected the call to fail')
}

const meeting = {
  title: 'Follow-up with Ada',
  start: '2030-03-01T09:00:00.000Z',
  end: '2030-03-01T09:30:00.000Z',
  timeZone: 'Europe/Amsterdam',
}

t.test('the consent page is clearly the Sandbox, works without JavaScript and carries the request', async (t) => {
  const browser = new Browser()
  const url = authorizeUrl({ state: 'keep & "quote"' })
  const page = await browser.get(url)
  t.equal(page.status, 200)
  t.match(page.text, 'Sandbox — a test provider built into Video Meetings; no real meetings are created.')
  t.match(page.text, /<h1[^>]*>Sign in to the Sandbox<\/h1>/)
  t.match(page.text, /<form method="post" action="\/sandbox\/oauth\/authorize" hx-boost="false">/, 'a plain form: the browser navigates, as at a real provider')
  t.match(page.text, /<label for="sandbox-email">Sandbox account email<\/label>/)
  t.match(page.text, /<label for="sandbox-name">Display name<\/label>/)
  t.match(page.text, /id="sandbox-scope-profile" name="grant" value="profile" checked/)
  t.match(page.text, /id="sandbox-scope-meetings" name="grant" value="meetings" checked/)
  t.match(page.text, /<legend>/)
  t.match(page.text, /name="decision" value="allow">Allow</)
  t.match(page.text, /name="decision" value="deny" formnovalidate>Deny</)
  t.equal(page.headers.get('cache-control'), 'no-store')
  const fields = hiddenFields(page.text)
  t.ok(fields._csrf, 'the app\'s CSRF field')
  t.equal(fields.state, 'keep & "quote"', 'the original parameters ride along, escaped')
  t.equal(fields.redirect_uri, client.redirectUri)
  t.equal(fields.code_challenge_method, 'S256')

  const dutch = await new Browser('nl').get(url)
  t.match(dutch.text, 'Sandbox — een testprovider die in Video Meetings is ingebouwd')
  t.match(dutch.text, '>Toestaan<')
  t.match(dutch.text, '<html lang="nl">')
})

t.test('a bad client_id or redirect_uri is shown on the page, never redirected', async (t) => {
  const browser = new Browser()
  for (const overrides of [
    { redirect_uri: 'https://evil.example/callback' },
    { redirect_uri: `${client.redirectUri}/../steal` },
    { redirect_uri: undefined },
    { client_id: 'someone-else' },
    { client_id: undefined },
  ]) {
    const page = await browser.get(authorizeUrl(overrides))
    t.equal(page.status, 400, JSON.stringify(overrides))
    t.equal(page.location, null)
    t.match(page.text, 'Sandbox: this sign-in request is not valid')
  }
  const repeated = await browser.get(`${authorizeUrl()}&redirect_uri=${encodeURIComponent('https://evil.example/')}`)
  t.equal(repeated.status, 400, 'a repeated redirect_uri is refused on the page')
  t.equal(repeated.location, null)
})

t.test('other request errors go back to the app with error, state and iss', async (t) => {
  const browser = new Browser()
  const cases: [Record<string, string | undefined>, string][] = [
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge_method: undefined }, 'invalid_request'],
    [{ code_challenge: 'too-short' }, 'invalid_request'],
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ scope: 'profile admin' }, 'invalid_scope'],
    [{ scope: '' }, 'invalid_scope'],
  ]
  for (const [overrides, error] of cases) {
    const page = await browser.get(authorizeUrl({ ...overrides, state: 'S1' }))
    t.equal(page.status, 303, JSON.stringify(overrides))
    const q = query(page.location)
    t.equal(q.get('error'), error)
    t.equal(q.get('state'), 'S1')
    t.equal(q.get('iss'), issuer)
    t.notOk(q.get('code'))
  }
})

t.test('Deny answers access_denied; a form without the CSRF token changes nothing', async (t) => {
  const browser = new Browser()
  const denied = await consent(browser, authorizeUrl({ state: 'S2' }), { decision: 'deny', email: '', name: '' })
  t.equal(denied.status, 303)
  const q = query(denied.location)
  t.equal(q.get('error'), 'access_denied')
  t.equal(q.get('state'), 'S2')
  t.equal(q.get('iss'), issuer)

  const page = await browser.get(authorizeUrl())
  const forged = await browser.post('/sandbox/oauth/authorize', { ...hiddenFields(page.text), _csrf: 'forged', email: 'x@example.com', name: 'X', grant: 'profile', decision: 'allow' })
  t.equal(forged.status, 403)
  t.equal(forged.location, null)

  const tampered = await browser.post('/sandbox/oauth/authorize', { ...hiddenFields(page.text), redirect_uri: 'https://evil.example/cb', email: 'x@example.com', name: 'X', grant: 'profile', decision: 'allow' })
  t.equal(tampered.status, 400, 'the hidden fields are validated again')
  t.equal(tampered.location, null)

  const invalid = await browser.post('/sandbox/oauth/authorize', { ...hiddenFields(page.text), email: 'not-an-email', name: '', grant: [], decision: 'allow' })
  t.equal(invalid.status, 422)
  t.match(invalid.text, 'Tick at least one permission, or choose Deny.')
  const noEmail = await browser.post('/sandbox/oauth/authorize', { ...hiddenFields(page.text), email: 'not-an-email', name: '', grant: 'profile', decision: 'allow' })
  t.equal(noEmail.status, 422)
  t.match(noEmail.text, 'Enter an email address such as name@example.com.')
  t.match(noEmail.text, /aria-invalid="true"/)
  t.match(noEmail.text, /id="sandbox-scope-profile" name="grant" value="profile" checked/)
  t.notMatch(noEmail.text, /id="sandbox-scope-meetings" name="grant" value="meetings" checked/, 'the ticks are kept as given')
})

t.test('Allow → code, state and iss; the code is exchanged once with the right PKCE verifier', async (t) => {
  const { verifier, challenge } = pkce()
  const res = await consent(new Browser(), authorizeUrl({ state: 'S3', code_challenge: challenge }), { decision: 'allow' })
  t.equal(res.status, 303)
  const q = query(res.location)
  t.equal(q.get('state'), 'S3')
  t.equal(q.get('iss'), issuer)
  const code = q.get('code')!
  t.ok(code)
  const stored = app.db.prepare('SELECT code_hash FROM sandbox_authorization_codes').pluck().all() as string[]
  t.notOk(stored.includes(code), 'only the hash of the code is stored')
  t.ok(stored.includes(crypto.createHash('sha256').update(code).digest('hex')))

  const exchange = { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier }
  const wrongVerifier = await tokenRequest({ ...exchange, code_verifier: pkce().verifier })
  t.equal(wrongVerifier.status, 400)
  t.equal(wrongVerifier.body.error, 'invalid_grant')
  const wrongRedirect = await tokenRequest({ ...exchange, redirect_uri: `${baseUrl}/elsewhere` })
  t.equal(wrongRedirect.body.error, 'invalid_grant')
  const noVerifier = await tokenRequest({ ...exchange, code_verifier: '' })
  t.equal(noVerifier.body.error, 'invalid_request')

  const ok = await tokenRequest(exchange)
  t.equal(ok.status, 200)
  t.equal(ok.headers.get('cache-control'), 'no-store')
  t.match(ok.headers.get('content-type'), /^application\/json/)
  t.match(ok.body, { token_type: 'Bearer', expires_in: 3600, scope: 'profile meetings' })
  t.match(ok.body.access_token, /^sbx_at_[A-Za-z0-9_-]{43}$/)
  t.match(ok.body.refresh_token, /^sbx_rt_[A-Za-z0-9_-]{43}$/)
  t.equal((await api('GET', 'me', ok.body.access_token!)).status, 200)

  const replay = await tokenRequest(exchange)
  t.equal(replay.status, 400)
  t.equal(replay.body.error, 'invalid_grant')
  t.equal((await api('GET', 'me', ok.body.access_token!)).status, 401, 'a replayed code revokes the tokens issued for it')
  const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token! })
  t.equal(refresh.body.error, 'invalid_grant')
})

t.test('client authentication: secret in the body or HTTP Basic, nothing else', async (t) => {
  const { verifier, challenge } = pkce()
  const res = await consent(new Browser(), authorizeUrl({ code_challenge: challenge }), { decision: 'allow' })
  const exchange = { grant_type: 'authorization_code', code: query(res.location).get('code')!, redirect_uri: client.redirectUri, code_verifier: verifier }

  const none = await tokenRequest(exchange, 'none')
  t.equal(none.status, 401)
  t.equal(none.body.error, 'invalid_client')
  t.ok(none.headers.get('www-authenticate'))
  const wrong = await tokenRequest({ ...exchange, client_id: client.id, client_secret: client.secret + 'x' }, 'none')
  t.equal(wrong.status, 401)
  t.equal(wrong.body.error, 'invalid_client')
  const otherClient = await tokenRequest({ ...exchange, client_id: 'someone-else', client_secret: client.secret }, 'none')
  t.equal(otherClient.status, 401)
  const notForm = await fetch(endpoints.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...exchange, client_id: client.id, client_secret: client.secret }) })
  t.equal(notForm.status, 400)
  t.equal(((await notForm.json()) as { error: string }).error, 'invalid_request')
  const unsupported = await tokenRequest({ grant_type: 'password' })
  t.equal(unsupported.body.error, 'unsupported_grant_type')

  const basic = await tokenRequest(exchange, 'basic')
  t.equal(basic.status, 200, 'HTTP Basic works too')
  t.ok(basic.body.access_token)
})

t.test('an authorization code expires after 60 seconds', async (t) => {
  const { verifier, challenge } = pkce()
  const res = await consent(new Browser(), authorizeUrl({ code_challenge: challenge }), { decision: 'allow' })
  expireCodes()
  const late = await tokenRequest({ grant_type: 'authorization_code', code: query(res.location).get('code')!, redirect_uri: client.redirectUri, code_verifier: verifier })
  t.equal(late.status, 400)
  t.equal(late.body.error, 'invalid_grant')
  t.match(late.body.error_description, /expired/)
})

t.test('an unticked scope is left out of the grant, and the API then answers insufficient_scope', async (t) => {
  const tokens = await connect({ email: 'partial@example.com', grant: ['profile'] })
  t.equal(tokens.scope, 'profile')
  t.equal((await api('GET', 'me', tokens.access_token)).status, 200)
  const create = await api('POST', 'meetings', tokens.access_token, meeting)
  t.equal(create.status, 403)
  t.equal(create.body.error, 'insufficient_scope')
  t.match(create.headers.get('www-authenticate'), /error="insufficient_scope"/)

  const onlyMeetings = await connect({ email: 'partial@example.com', grant: ['meetings'] })
  t.equal(onlyMeetings.scope, 'meetings')
  t.equal((await api('GET', 'me', onlyMeetings.access_token)).body.error, 'insufficient_scope')
})

t.test('refresh tokens rotate; reusing a rotated one revokes the whole family', async (t) => {
  const first = await connect({ email: 'rotate@example.com' })
  const second = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
  t.equal(second.status, 200)
  t.equal(second.headers.get('cache-control'), 'no-store')
  t.not(second.body.refresh_token, first.refresh_token, 'a new refresh token every time')
  t.equal(second.body.scope, 'profile meetings')
  t.equal((await api('GET', 'me', second.body.access_token!)).status, 200)

  const narrowed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: second.body.refresh_token!, scope: 'profile admin' })
  t.equal(narrowed.body.error, 'invalid_scope', 'a refresh cannot widen the grant')
  const third = await tokenRequest({ grant_type: 'refresh_token', refresh_token: second.body.refresh_token! })
  t.equal(third.status, 200)

  const reuse = await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token })
  t.equal(reuse.status, 400)
  t.equal(reuse.body.error, 'invalid_grant')
  const me = await api('GET', 'me', third.body.access_token!)
  t.equal(me.status, 401, 'the newest access token died with the family')
  t.equal(me.body.error, 'invalid_token')
  t.match(me.headers.get('www-authenticate'), /^Bearer .*error="invalid_token"/)
  t.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: third.body.refresh_token! })).body.error, 'invalid_grant')
})

t.test('revocation (RFC 7009)', async (t) => {
  const a = await connect({ email: 'revoke@example.com' })
  t.equal(await revoke(a.access_token), 200)
  t.equal((await api('GET', 'me', a.access_token)).status, 401)
  t.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: a.refresh_token })).status, 200, 'revoking an access token leaves the refresh token')

  const b = await connect({ email: 'revoke@example.com' })
  t.equal(await revoke(b.refresh_token), 200)
  t.equal((await api('GET', 'me', b.access_token)).status, 401, 'revoking a refresh token revokes its family')
  t.equal((await tokenRequest({ grant_type: 'refresh_token', refresh_token: b.refresh_token })).body.error, 'invalid_grant')
  t.equal(await revoke('sbx_rt_unknown'), 200, 'an unknown token is answered 200 too')

  const anonymous = await fetch(endpoints.revokeUrl!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: a.refresh_token }) })
  t.equal(anonymous.status, 401)
  t.equal(anonymous.headers.get('cache-control'), 'no-store')
})

t.test('/sandbox/api/me needs a live Bearer token', async (t) => {
  const tokens = await connect({ email: 'Me@Example.com', name: 'Mia Me' })
  const me = await api('GET', 'me', tokens.access_token)
  t.equal(me.status, 200)
  t.equal(me.headers.get('cache-control'), 'no-store')
  t.match(me.body, { name: 'Mia Me', email: 'me@example.com' })
  t.type(me.body.id, 'string')
  for (const token of [null, 'sbx_at_nonsense', tokens.refresh_token]) {
    const res = await api('GET', 'me', token)
    t.equal(res.status, 401)
    t.equal(res.body.error, 'invalid_token')
    t.match(res.headers.get('www-authenticate'), /Bearer .*error="invalid_token"/)
  }
  const inQuery = await fetch(`${endpoints.userinfoUrl}?access_token=${tokens.access_token}`)
  t.equal(inQuery.status, 401, 'tokens are never read from the query string')
})

t.test('meetings: create (idempotent by requestId), read, update, delete; other accounts see nothing', async (t) => {
  const owner = await connect({ email: 'owner@example.com' })
  const other = await connect({ email: 'other@example.com' })

  const created = await api('POST', 'meetings', owner.access_token, { ...meeting, passcode: 'abc123', requestId: 'fu-1' })
  t.equal(created.status, 201)
  t.equal(created.headers.get('cache-control'), 'no-store')
  const id = created.body.id as string
  t.match(id, /^[A-Za-z0-9_-]{22}$/)
  t.match(created.body, { ...meeting, passcode: 'abc123', joinUrl: `${baseUrl}/sandbox/meet/${id}` })
  t.match(created.body.dialIn, [{ number: String, pin: /^\d{9}$/ }])

  const again = await api('POST', 'meetings', owner.access_token, { ...meeting, title: 'Retried', requestId: 'fu-1' })
  t.equal(again.status, 200, 'a repeated requestId returns the existing meeting')
  t.equal(again.body.id, id)
  t.equal(again.body.title, meeting.title)
  const elsewhere = await api('POST', 'meetings', other.access_token, { ...meeting, requestId: 'fu-1' })
  t.equal(elsewhere.status, 201, 'requestIds are per account')
  t.not(elsewhere.body.id, id)

  const generated = await api('POST', 'meetings', owner.access_token, meeting)
  t.match(generated.body.passcode, /^\d{6}$/, 'a passcode is made up when none is given')

  for (const [body, why] of [
    [{ ...meeting, title: '' }, 'empty title'],
    [{ ...meeting, title: undefined }, 'missing title'],
    [{ ...meeting, end: meeting.start }, 'end not after start'],
    [{ ...meeting, start: '1 March 2030' }, 'not ISO 8601'],
    [{ ...meeting, timeZone: 'Mars/Olympus' }, 'unknown zone'],
    [{ ...meeting, passcode: 'has spaces' }, 'bad passcode'],
    [{ ...meeting, waitingRoom: 'yes' }, 'waitingRoom not a boolean'],
    [[meeting], 'not an object'],
  ] as const) {
    const res = await api('POST', 'meetings', owner.access_token, body)
    t.equal(res.status, 400, why)
    t.equal(res.body.error, 'invalid_request', why)
    t.type(res.body.error_description, 'string', why)
  }
  const garbage = await fetch(`${endpoints.apiUrl}/meetings`, { method: 'POST', headers: { authorization: `Bearer ${owner.access_token}`, 'content-type': 'application/json' }, body: '{nope' })
  t.equal(garbage.status, 400)
  t.equal(((await garbage.json()) as { error: string }).error, 'invalid_request')

  t.match((await api('GET', `meetings/${id}`, owner.access_token)).body, { id, title: meeting.title })
  const patched = await api('PATCH', `meetings/${id}`, owner.access_token, { title: 'Moved follow-up', start: '2030-03-02T10:00:00+01:00', end: '2030-03-02T11:00:00+01:00' })
  t.equal(patched.status, 200)
  t.match(patched.body, { id, title: 'Moved follow-up', start: '2030-03-02T09:00:00.000Z', end: '2030-03-02T10:00:00.000Z', passcode: 'abc123', joinUrl: created.body.joinUrl })
  t.equal((await api('PATCH', `meetings/${id}`, owner.access_token, { end: '2030-03-01T00:00:00Z' })).status, 400)

  const page = await new Browser().get(`/sandbox/meet/${id}`)
  t.equal(page.status, 200)
  t.match(page.text, /<h1>Sandbox meeting: Moved follow-up<\/h1>/)
  t.match(page.text, /<time datetime="2030-03-02T09:00:00.000Z">Saturday,? 2 March 2030,? (at )?10:00<\/time>/, 'shown in the meeting\'s zone')
  t.match(page.text, 'Europe/Amsterdam')
  t.match((await new Browser('nl').get(`/sandbox/meet/${id}`)).text, 'Sandbox-vergadering: Moved follow-up')

  for (const method of ['GET', 'PATCH', 'DELETE']) {
    const res = await api(method, `meetings/${id}`, other.access_token, method === 'PATCH' ? { title: 'Hijacked' } : undefined)
    t.equal(res.status, 404, `${method} of another account's meeting`)
    t.equal(res.body.error, 'not_found')
  }
  const del = await api('DELETE', `meetings/${id}`, owner.access_token)
  t.equal(del.status, 204)
  t.equal(del.body, null)
  t.equal((await api('DELETE', `meetings/${id}`, owner.access_token)).status, 404, 'deleting twice → 404')
  t.equal((await api('GET', `meetings/${id}`, owner.access_token)).status, 404)
  t.equal((await api('PATCH', `meetings/${id}`, owner.access_token, { title: 'Back' })).status, 404)
  t.equal((await api('GET', 'meetings/unknown', owner.access_token)).status, 404)
  t.equal((await new Browser().get(`/sandbox/meet/${id}`)).status, 404, 'the join page is gone too')
  const afterDelete = await api('POST', 'meetings', owner.access_token, { ...meeting, requestId: 'fu-1' })
  t.equal(afterDelete.status, 409, 'a deleted meeting is not resurrected by its requestId')
  t.equal((await api('GET', `meetings/${elsewhere.body.id as string}`, owner.access_token)).status, 404)
})

t.test('only the consent form is CSRF-protected; the server-to-server endpoints opt out', async (t) => {
  const sandbox = app.routeTable.filter((r) => r.url.startsWith('/sandbox/') && r.method !== 'GET' && r.method !== 'HEAD')
  t.same(
    sandbox.map((r) => `${r.method} ${r.url} ${r.csrf}`).sort(),
    [
      'DELETE /sandbox/api/meetings/:id false',
      'PATCH /sandbox/api/meetings/:id false',
      'POST /sandbox/api/meetings false',
      'POST /sandbox/oauth/authorize true',
      'POST /sandbox/oauth/revoke false',
      'POST /sandbox/oauth/token false',
    ],
  )
})

t.test('the adapter, end to end against the sandbox', async (t) => {
  const provider = createSandboxProvider(issuer)
  t.equal(provider.id, 'sandbox')
  t.equal(provider.name, 'Sandbox')
  t.match(provider.note?.en, /test provider/)
  t.match(provider.note?.nl, /testprovider/)
  t.equal(provider.oauth?.issuer?.(endpoints), issuer, 'the iss the app expects is the one the sandbox sends')
  t.same(provider.oauth?.requiredScopes, ['profile', 'meetings'])
  t.equal(provider.oauth?.clientAuth, 'body')

  const tokens = await connect({ email: 'adapter@example.com', name: 'Ada Adapter' })
  const http = { timeoutMs: 5000 }
  const apiClient = createApiClient(endpoints.apiUrl, tokens.access_token, http)
  const identity = await provider.identity(apiClient, endpoints, tokens)
  t.match(identity, { name: 'Ada Adapter', email: 'adapter@example.com', accountId: String })

  const settings = provider.settings.defaults()
  t.match(settings.passcode, /^[A-Za-z0-9]{6,10}$/)
  t.not(provider.settings.defaults().passcode, settings.passcode, 'proposed at random')
  t.same(provider.settings.parse({ passcode: 'Secret42', waitingRoom: 'true' }, 'en'), { settings: { passcode: 'Secret42', waitingRoom: true }, errors: {} })
  t.same(provider.settings.parse({ passcode: '' }, 'en').errors, { passcode: 'Enter a passcode.' })
  t.same(provider.settings.parse({ passcode: 'abc' }, 'en').errors, { passcode: 'Use 6 to 10 letters or digits, without spaces.' })
  t.same(provider.settings.parse({ passcode: 'abc' }, 'nl').errors, { passcode: 'Gebruik 6 tot 10 letters of cijfers, zonder spaties.' })
  t.same(provider.settings.parse({}, 'nl').errors, { passcode: 'Vul een toegangscode in.' })
  t.equal(provider.settings.parse({ passcode: 'Secret42' }, 'en').settings.waitingRoom, false)

  const input = { title: 'Adapter meeting', start: new Date('2030-05-01T12:00:00Z'), end: new Date('2030-05-01T12:45:00Z'), timeZone: 'UTC', requestId: 'adapter-1' }
  const ref = await provider.meetings.create(apiClient, input, { passcode: 'Secret42', waitingRoom: true })
  t.match(ref, { externalId: String, joinUrl: new RegExp(`^${baseUrl}/sandbox/meet/`), passcode: 'Secret42', dialIn: [{ number: String, pin: String }] })
  const retried = await provider.meetings.create(apiClient, input, { passcode: 'Secret42', waitingRoom: true })
  t.equal(retried.externalId, ref.externalId, 'a retried create finds the same meeting')
  t.match((await new Browser().get(new URL(ref.joinUrl).pathname)).text, /Waiting room<\/dt>\s*<dd>On<\/dd>/)

  const updated = await provider.meetings.update(apiClient, ref, { ...input, title: 'Adapter meeting, moved' }, { passcode: 'Other999', waitingRoom: false })
  t.equal(updated.joinUrl, ref.joinUrl, 'the join link stays')
  t.equal(updated.passcode, 'Other999')
  t.match((await new Browser().get(new URL(ref.joinUrl).pathname)).text, 'Sandbox meeting: Adapter meeting, moved')

  await provider.meetings.delete(apiClient, ref)
  await t.resolves(provider.meetings.delete(apiClient, ref), 'deleting again counts as done')
  t.match(await failure(provider.meetings.update(apiClient, ref, input, settings)), { kind: 'not_found' })

  const bad = await failure(provider.meetings.create(apiClient, { ...input, requestId: 'adapter-2', timeZone: 'Nowhere/Land' }, settings))
  t.match(bad, { kind: 'fail', details: { status: 400, code: 'invalid_request' } }, 'a refused body is a permanent failure')

  const narrow = await connect({ email: 'adapter@example.com', grant: ['profile'] })
  const narrowClient = createApiClient(endpoints.apiUrl, narrow.access_token, http)
  t.match(await failure(provider.meetings.create(narrowClient, { ...input, requestId: 'adapter-3' }, settings)), { kind: 'fail', details: { status: 403, code: 'insufficient_scope' } })

  await revoke(tokens.refresh_token)
  t.match(await failure(provider.identity(apiClient, endpoints, tokens)), { kind: 'reauth', details: { status: 401, code: 'invalid_token' } })
})
