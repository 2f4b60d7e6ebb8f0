/**
 * Self-test of the provider fakes: for each provider, the whole life of a connection over real HTTP
 * (authorize with a real PKCE S256 pair → token exchange with the provider's client auth → identity →
 * meeting create/update/get/delete → refresh with the provider's rotation rule → revoke where it exists)
 * plus the main fault knobs.
 */
import t from 'tap'
import { checkPkce, newPkcePair, s256, type ProviderFake } from './common.js'
import { startZoomFake } from './zoom.js'
import { startMicrosoftFake } from './microsoft.js'
import { startGoogleFake } from './google.js'
import { startWebexFake } from './webex.js'

const REDIRECT = 'http://127.0.0.1:3999/oauth/callback'

interface AuthResult {
  status: number
  location: URL | null
  params: URLSearchParams
  body: string
}

async function authorize(url: string, params: Record<string, string>): Promise<AuthResult> {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v)
  const res = await fetch(u, { redirect: 'manual' })
  const loc = res.headers.get('location')
  const location = loc ? new URL(loc) : null
  return { status: res.status, location, params: location?.searchParams ?? new URLSearchParams(), body: await res.text() }
}

interface Res {
  status: number
  json: any
  text: string
  headers: Headers
}

async function toRes(res: Response): Promise<Res> {
  const text = await res.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, json, text, headers: res.headers }
}

async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> {
  return toRes(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    }),
  )
}

async function call(method: string, url: string, token?: string, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  return toRes(await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }))
}

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` }
}

const env = (fake: ProviderFake, key: string): string => {
  const v = fake.env[key]
  if (v === undefined) throw new Error(`missing env ${key}`)
  return v
}

t.test('PKCE helper matches RFC 7636 appendix B', async (t) => {
  t.equal(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  const p = newPkcePair()
  t.equal(checkPkce(p.verifier, p.challenge), 'ok')
  t.equal(checkPkce('short', p.challenge), 'malformed')
  t.equal(checkPkce(undefined, p.challenge), 'missing')
})

// =====================================================================================================
t.test('zoom', async (t) => {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const A = env(fake, 'ZOOM_AUTHORIZE_URL')
  const T = env(fake, 'ZOOM_TOKEN_URL')
  const API = env(fake, 'ZOOM_API_URL')
  t.equal(env(fake, 'ZOOM_USERINFO_URL'), `${fake.url}/v2/users/me`)
  t.match(fake.clientSecret, /^CANARY-zoom-secret-/)
  const auth = basic(fake.clientId, fake.clientSecret)

  async function connect(): Promise<{ at: string; rt: string; json: any }> {
    const pkce = newPkcePair()
    const a = await authorize(A, {
      response_type: 'code',
      client_id: fake.clientId,
      redirect_uri: REDIRECT,
      state: 's1',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    })
    const code = a.params.get('code') ?? ''
    const r = await postForm(T, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier }, auth)
    return { at: r.json.access_token, rt: r.json.refresh_token, json: r.json }
  }

  const pkce = newPkcePair()
  const state = 'st a+te/&=x'
  const a = await authorize(A, {
    response_type: 'code',
    client_id: fake.clientId,
    redirect_uri: REDIRECT,
    state,
    scope: 'ignored:scope',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  })
  t.equal(a.status, 302)
  t.equal(`${a.location?.origin}${a.location?.pathname}`, REDIRECT)
  t.equal(a.params.get('state'), state, 'state echoed exactly')
  const code = a.params.get('code') ?? ''
  t.match(code, /^CANARY-zoom-code-/)
  t.equal(fake.authorizations.at(-1)?.query.scope, 'ignored:scope', 'requested scope recorded')

  const plain = await authorize(A, { response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT, state: 'p', code_challenge: pkce.verifier, code_challenge_method: 'plain' })
  t.equal(plain.params.get('error'), 'invalid_request', 'plain PKCE refused')
  t.equal(plain.params.get('state'), 'p')
  const noPkce = await authorize(A, { response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT })
  t.equal(noPkce.params.get('error'), 'invalid_request', 'missing PKCE refused')
  const badClient = await authorize(A, { response_type: 'code', client_id: 'nope', redirect_uri: REDIRECT, code_challenge: pkce.challenge, code_challenge_method: 'S256' })
  t.equal(badClient.status, 400)
  t.equal(badClient.location, null, 'unknown client: error page, no redirect')

  // Secret in the body only: Zoom wants HTTP Basic.
  const bodyAuth = await postForm(T, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: pkce.verifier,
    client_id: fake.clientId,
    client_secret: fake.clientSecret,
  })
  t.equal(bodyAuth.status, 401)
  t.same(bodyAuth.json, { reason: 'Invalid client_id or client_secret', error: 'invalid_client' })

  const wrongVerifier = await postForm(T, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: newPkcePair().verifier }, auth)
  t.equal(wrongVerifier.status, 400)
  t.equal(wrongVerifier.json.error, 'invalid_grant')

  const tok = await postForm(T, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier }, auth)
  t.equal(tok.status, 200)
  t.equal(tok.json.token_type, 'bearer')
  t.equal(tok.json.expires_in, 3599)
  t.match(tok.json.access_token, /^CANARY-zoom-at-/)
  t.match(tok.json.refresh_token, /^CANARY-zoom-rt-/)
  t.match(tok.json.scope, /meeting:write:meeting/)
  t.equal(tok.json.api_url, fake.url)
  t.ok(fake.issued.codes.includes(code))
  t.equal(fake.requests.filter((r) => r.path === '/oauth/token').at(-1)?.headers.authorization?.startsWith('Basic '), true, 'headers recorded lower-cased')
  const at1: string = tok.json.access_token
  const rt1: string = tok.json.refresh_token

  const again = await postForm(T, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier }, auth)
  t.equal(again.status, 400, 'codes are single use')

  // Identity
  const me = await call('GET', env(fake, 'ZOOM_USERINFO_URL'), at1)
  t.equal(me.status, 401, 'code reuse revoked the tokens issued from it (RFC 6749 4.1.2)')
  const c = await connect()
  const me2 = await call('GET', env(fake, 'ZOOM_USERINFO_URL'), c.at)
  t.equal(me2.status, 200)
  t.equal(me2.json.email, 'jill.chill@example.com')
  t.ok(me2.json.account_id)
  t.equal((await call('GET', env(fake, 'ZOOM_USERINFO_URL'))).json.code, 124)

  // Meetings
  const created = await call('POST', `${API}/users/me/meetings`, c.at, {
    topic: 'Follow-up',
    type: 2,
    start_time: '2030-05-01T10:00:00Z',
    duration: 30,
    timezone: 'Europe/Berlin',
    settings: { join_before_host: true },
  })
  t.equal(created.status, 201)
  t.type(created.json.id, 'number')
  t.ok(created.json.id > 10_000_000_000)
  t.match(created.json.join_url, /^https:\/\/us05web\.zoom\.us\/j\/\d+\?pwd=/)
  t.match(created.json.start_url, /zak=CANARY-zoom-zak-/)
  for (const k of ['uuid', 'password', 'h323_password', 'pstn_password', 'encrypted_password']) t.ok(created.json[k], k)
  t.equal(created.json.settings.join_before_host, true)
  t.equal(created.json.settings.waiting_room, true)
  t.ok(created.json.settings.global_dial_in_numbers[0].number)
  const mid = String(created.json.id)
  t.ok(fake.meetings.has(mid))

  const patched = await call('PATCH', `${API}/meetings/${mid}`, c.at, { topic: 'Renamed' })
  t.equal(patched.status, 204)
  t.equal(patched.text, '', 'PATCH answers no body')
  const got = await call('GET', `${API}/meetings/${mid}`, c.at)
  t.equal(got.status, 200)
  t.equal(got.json.topic, 'Renamed')
  t.equal((await call('DELETE', `${API}/meetings/${mid}`, c.at)).status, 204)
  const del2 = await call('DELETE', `${API}/meetings/${mid}`, c.at)
  t.equal(del2.status, 404)
  t.same(del2.json, { code: 3001, message: `Meeting does not exist: ${mid}.` })
  t.equal((await call('GET', `${API}/meetings/${mid}`, c.at)).status, 404)
  t.equal(fake.count('/meetings', 'POST'), 1)

  // Refresh: rotation, and reuse of a rotated token kills the family.
  const r1 = await postForm(T, { grant_type: 'refresh_token', refresh_token: c.rt }, auth)
  t.equal(r1.status, 200)
  t.not(r1.json.refresh_token, c.rt, 'rotated')
  const reuse = await postForm(T, { grant_type: 'refresh_token', refresh_token: c.rt }, auth)
  t.equal(reuse.status, 400)
  t.same(reuse.json, { reason: 'Invalid Token!', error: 'invalid_grant' })
  const child = await postForm(T, { grant_type: 'refresh_token', refresh_token: r1.json.refresh_token }, auth)
  t.equal(child.status, 400, 'reuse revoked the descendants too')
  t.equal((await call('GET', env(fake, 'ZOOM_USERINFO_URL'), r1.json.access_token)).status, 401)

  // Two refreshes racing with the same token: one wins, the other spends a dead token.
  const race = await connect()
  fake.knobs.tokenDelayMs = 50
  const [x, y] = await Promise.all([
    postForm(T, { grant_type: 'refresh_token', refresh_token: race.rt }, auth),
    postForm(T, { grant_type: 'refresh_token', refresh_token: race.rt }, auth),
  ])
  t.same([x.status, y.status].sort(), [200, 400], 'unlocked concurrent refresh breaks the connection')
  fake.reset()
  t.equal(fake.knobs.tokenDelayMs, 0, 'reset restores knobs')

  // Revoke
  const rv = await connect()
  const revoked = await postForm(env(fake, 'ZOOM_REVOKE_URL'), { token: rv.at }, auth)
  t.same(revoked.json, { status: 'success' })
  t.equal((await postForm(T, { grant_type: 'refresh_token', refresh_token: rv.rt }, auth)).status, 400)
  t.equal((await call('GET', `${API}/meetings/1`, rv.at)).json.code, 124)

  // Knobs
  const k = await connect()
  fake.knobs.tokenError = 'invalid_grant'
  t.same((await postForm(T, { grant_type: 'refresh_token', refresh_token: k.rt }, auth)).json, { reason: 'Invalid Token!', error: 'invalid_grant' })
  fake.reset()
  fake.knobs.apiStatus = 429
  fake.knobs.retryAfterSeconds = 7
  fake.knobs.apiFaultCount = 1
  const limited = await call('POST', `${API}/users/me/meetings`, k.at, { topic: 'x' })
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '7')
  t.equal((await call('POST', `${API}/users/me/meetings`, k.at, { topic: 'x' })).status, 201, 'fault count used up')
  fake.reset()
  fake.knobs.apiXmlBody = true
  const xml = await call('GET', `${API}/meetings/1`, k.at)
  t.match(xml.headers.get('content-type') ?? '', /xml/)
  t.match(xml.text, /^<\?xml/)
  fake.reset()
  fake.knobs.resetConnection = 'api'
  await t.rejects(call('GET', `${API}/meetings/1`, k.at), 'socket destroyed')
  fake.reset()
  fake.expireAccessTokensNow()
  t.same((await call('GET', `${API}/meetings/1`, k.at)).json, { code: 124, message: 'Access token is expired.' })

  // Missing scope → 4711 (HTTP 400).
  fake.knobs.dropScope = 'meeting:write:meeting'
  const narrow = await connect()
  t.notMatch(narrow.json.scope, /meeting:write:meeting/)
  const noScope = await call('POST', `${API}/users/me/meetings`, narrow.at, { topic: 'x' })
  t.equal(noScope.status, 400)
  t.equal(noScope.json.code, 4711)
  fake.reset()

  // Codes expire after 5 minutes.
  const p2 = newPkcePair()
  const late = await authorize(A, { response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT, code_challenge: p2.challenge, code_challenge_method: 'S256' })
  fake.advanceTime(301)
  t.equal((await postForm(T, { grant_type: 'authorization_code', code: late.params.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: p2.verifier }, auth)).status, 400)

  fake.knobs.deny = true
  const denied = await authorize(A, { response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT, state: 'd', code_challenge: p2.challenge, code_challenge_method: 'S256' })
  t.equal(denied.params.get('error'), 'access_denied')
  t.equal(denied.params.get('state'), 'd')
})

// =====================================================================================================
t.test('microsoft', async (t) => {
  const fake = await startMicrosoftFake()
  t.teardown(() => fake.close())
  const A = env(fake, 'TEAMS_AUTHORIZE_URL')
  const T = env(fake, 'TEAMS_TOKEN_URL')
  const API = env(fake, 'TEAMS_API_URL')
  t.equal(fake.env.TEAMS_REVOKE_URL, '')
  t.equal(fake.env.TEAMS_TENANT, 'organizations')
  t.match(A, /\/organizations\/oauth2\/v2\.0\/authorize$/)
  const SCOPE = 'openid profile email offline_access OnlineMeetings.ReadWrite User.Read'
  const secret = { client_id: fake.clientId, client_secret: fake.clientSecret }

  async function connect(authorizeUrl = A, tokenUrl = T): Promise<Res> {
    const pkce = newPkcePair()
    const a = await authorize(authorizeUrl, {
      client_id: fake.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT,
      response_mode: 'query',
      scope: SCOPE,
      state: 'ms',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    })
    return postForm(tokenUrl, { ...secret, grant_type: 'authorization_code', code: a.params.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: pkce.verifier, scope: SCOPE })
  }

  const pkce = newPkcePair()
  const a = await authorize(A, {
    client_id: fake.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: SCOPE,
    state: 'abc',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  })
  t.equal(a.status, 302)
  t.equal(a.params.get('state'), 'abc')
  t.ok(a.params.get('session_state'))
  const code = a.params.get('code') ?? ''
  t.match(code, /^CANARY-microsoft-code-/)

  const noSecret = await postForm(T, { client_id: fake.clientId, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier })
  t.equal(noSecret.status, 401)
  t.equal(noSecret.json.error, 'invalid_client')
  t.same(noSecret.json.error_codes, [7000218])
  const wrongSecret = await postForm(T, { client_id: fake.clientId, client_secret: 'nope', grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier })
  t.same(wrongSecret.json.error_codes, [7000215])
  const badRedirect = await postForm(T, { ...secret, grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:3999/other', code_verifier: pkce.verifier })
  t.match(badRedirect.json.error_description, /^AADSTS70000:/)

  const tok = await postForm(T, { ...secret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier, scope: SCOPE })
  t.equal(tok.status, 200)
  t.equal(tok.json.token_type, 'Bearer')
  t.equal(tok.json.expires_in, 3599)
  t.equal(tok.json.ext_expires_in, 3599)
  t.match(tok.json.refresh_token, /^CANARY-microsoft-rt-/)
  t.ok(tok.json.id_token)
  t.match(tok.json.scope, /OnlineMeetings\.ReadWrite/)
  t.notMatch(tok.json.scope, /offline_access/)
  const claims = JSON.parse(Buffer.from(String(tok.json.id_token).split('.')[1] ?? '', 'base64url').toString())
  t.equal(claims.tid, fake.user.tenantId)
  const at: string = tok.json.access_token
  const rt: string = tok.json.refresh_token
  const redeemed = await postForm(T, { ...secret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier })
  t.same(redeemed.json.error_codes, [54005])
  t.equal((await call('GET', env(fake, 'TEAMS_USERINFO_URL'), at)).status, 401, 'code reuse revoked its tokens')

  const c = await connect()
  const cat: string = c.json.access_token
  const me = await call('GET', env(fake, 'TEAMS_USERINFO_URL'), cat)
  t.equal(me.status, 200)
  t.equal(me.json.userPrincipalName, 'AdeleV@contoso.example')
  t.equal(me.json.mail, 'AdeleV@contoso.example')
  fake.knobs.mailNull = true
  t.equal((await call('GET', env(fake, 'TEAMS_USERINFO_URL'), cat)).json.mail, null)
  fake.reset()
  const anon = await call('GET', env(fake, 'TEAMS_USERINFO_URL'))
  t.equal(anon.status, 401)
  t.equal(anon.json.error.code, 'InvalidAuthenticationToken')

  // onlineMeetings
  const created = await call('POST', `${API}/me/onlineMeetings`, cat, {
    subject: 'Follow-up',
    startDateTime: '2030-05-01T10:00:00Z',
    endDateTime: '2030-05-01T10:30:00Z',
  })
  t.equal(created.status, 201)
  t.match(created.json.joinWebUrl, /^https:\/\/teams\.microsoft\.com\/l\/meetup-join\//)
  t.equal(created.json.startDateTime, '2030-05-01T10:00:00.0000000Z')
  t.ok(Array.isArray(created.json.audioConferencing.tollNumbers))
  t.ok(created.json.audioConferencing.conferenceId)
  t.ok(created.json.joinMeetingIdSettings.joinMeetingId)
  t.equal(created.json.lobbyBypassSettings.scope, 'organization')
  const id: string = created.json.id
  t.equal((await call('PATCH', `${API}/me/onlineMeetings/${id}`, cat, { startDateTime: '2030-05-02T10:00:00Z' })).status, 400, 'start without end refused')
  const patched = await call('PATCH', `${API}/me/onlineMeetings/${id}`, cat, { subject: 'Renamed', startDateTime: '2030-05-02T10:00:00Z', endDateTime: '2030-05-02T11:00:00Z' })
  t.equal(patched.status, 200)
  t.equal(patched.json.subject, 'Renamed')
  t.equal(patched.json.joinWebUrl, created.json.joinWebUrl)
  t.equal((await call('GET', `${API}/me/onlineMeetings/${id}`, cat)).json.subject, 'Renamed')
  t.equal((await call('DELETE', `${API}/me/onlineMeetings/${id}`, cat)).status, 204)
  t.equal((await call('DELETE', `${API}/me/onlineMeetings/${id}`, cat)).status, 404)
  t.equal((await call('GET', `${API}/me/onlineMeetings/${id}`, cat)).status, 404)

  // Refresh: scope required; rotation with the old token still usable.
  const crt: string = c.json.refresh_token
  const noScope = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: crt })
  t.equal(noScope.status, 400)
  t.same(noScope.json.error_codes, [900144])
  const r1 = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: crt, scope: SCOPE })
  t.equal(r1.status, 200)
  t.not(r1.json.refresh_token, crt, 'new refresh token')
  const old = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: crt, scope: SCOPE })
  t.equal(old.status, 200, 'old refresh token still works at Microsoft')
  t.equal((await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: rt, scope: SCOPE })).status, 400, 'revoked family stays dead')

  fake.knobs.tokenError = 'invalid_grant'
  const ig = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: crt, scope: SCOPE })
  t.equal(ig.json.error, 'invalid_grant')
  t.same(ig.json.error_codes, [70000])
  t.match(ig.json.error_description, /^AADSTS70000: /)
  t.ok(ig.json.trace_id && ig.json.correlation_id && ig.json.timestamp)
  fake.knobs.tokenError = 'consent_required'
  t.same((await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: crt, scope: SCOPE })).json.error_codes, [65001])
  fake.reset()

  fake.knobs.apiStatus = 503
  fake.knobs.retryAfterSeconds = 3
  const unavailable = await call('POST', `${API}/me/onlineMeetings`, cat, { subject: 'x' })
  t.equal(unavailable.status, 503)
  t.equal(unavailable.headers.get('retry-after'), '3')
  fake.reset()

  // Personal accounts: refused on the sign-in page for `organizations`; Graph refuses onlineMeetings.
  fake.knobs.personalAccount = true
  const pk = newPkcePair()
  const page = await authorize(A, { client_id: fake.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: pk.challenge, code_challenge_method: 'S256' })
  t.equal(page.status, 400)
  t.equal(page.location, null)
  t.match(page.body, /AADSTS500200/)
  const personal = await connect(`${fake.url}/common/oauth2/v2.0/authorize`, `${fake.url}/common/oauth2/v2.0/token`)
  t.equal(personal.status, 200)
  const pme = await call('GET', env(fake, 'TEAMS_USERINFO_URL'), personal.json.access_token)
  t.equal(pme.status, 200)
  t.equal(pme.json.mail, null)
  const refused = await call('POST', `${API}/me/onlineMeetings`, personal.json.access_token, { subject: 'x' })
  t.equal(refused.status, 403)
  t.equal(refused.json.error.code, 'AuthenticationError')
  fake.reset()
})

// =====================================================================================================
t.test('google', async (t) => {
  const fake = await startGoogleFake()
  t.teardown(() => fake.close())
  const A = env(fake, 'GOOGLE_AUTHORIZE_URL')
  const T = env(fake, 'GOOGLE_TOKEN_URL')
  const CAL = `${env(fake, 'GOOGLE_API_URL')}/calendars/primary/events`
  const SCOPE = 'openid email profile https://www.googleapis.com/auth/calendar.events'
  const secret = { client_id: fake.clientId, client_secret: fake.clientSecret }

  async function connect(extra: Record<string, string> = {}, auth: 'body' | 'basic' = 'body'): Promise<Res> {
    const pkce = newPkcePair()
    const a = await authorize(A, {
      client_id: fake.clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: SCOPE,
      access_type: 'offline',
      state: 'g',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
      ...extra,
    })
    const fields = { grant_type: 'authorization_code', code: a.params.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: pkce.verifier }
    return auth === 'body' ? postForm(T, { ...fields, ...secret }) : postForm(T, fields, basic(fake.clientId, fake.clientSecret))
  }

  const pkce = newPkcePair()
  const a = await authorize(A, {
    client_id: fake.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: SCOPE,
    access_type: 'offline',
    prompt: 'consent',
    state: 'xyz',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  })
  t.equal(a.status, 302)
  t.equal(a.params.get('state'), 'xyz')
  t.match(a.params.get('scope') ?? '', /calendar\.events/)
  const code = a.params.get('code') ?? ''
  t.match(code, /^CANARY-google-code-/)
  const wrong = await postForm(T, { ...secret, client_secret: 'nope', grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier })
  t.equal(wrong.status, 401)
  t.equal(wrong.json.error, 'invalid_client')
  const tok = await postForm(T, { ...secret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier })
  t.equal(tok.status, 200)
  t.equal(tok.json.token_type, 'Bearer')
  t.match(tok.json.refresh_token, /^CANARY-google-rt-/)
  t.ok(tok.json.id_token)
  t.match(tok.json.scope, /https:\/\/www\.googleapis\.com\/auth\/userinfo\.email/)
  const at: string = tok.json.access_token
  const rt: string = tok.json.refresh_token

  // Second consent without prompt=consent: no refresh token; Basic auth accepted.
  const second = await connect({}, 'basic')
  t.equal(second.status, 200)
  t.notOk('refresh_token' in second.json, 'no refresh_token on re-consent without prompt=consent')

  const ui = await call('GET', env(fake, 'GOOGLE_USERINFO_URL'), at)
  t.equal(ui.status, 200)
  t.equal(ui.json.email, 'gary.google@example.com')
  t.equal(ui.json.email_verified, true)
  t.ok(ui.json.sub && ui.json.name && ui.json.picture)
  fake.knobs.userinfoFail = true
  t.equal((await call('GET', env(fake, 'GOOGLE_USERINFO_URL'), at)).status, 500)
  fake.reset()

  const when = { start: { dateTime: '2030-05-01T10:00:00+02:00' }, end: { dateTime: '2030-05-01T10:30:00+02:00' } }
  const plainEvent = await call('POST', CAL, at, { summary: 'No conference', ...when, conferenceData: { createRequest: { requestId: 'r0', conferenceSolutionKey: { type: 'hangoutsMeet' } } } })
  t.equal(plainEvent.status, 200)
  t.notOk(plainEvent.json.conferenceData, 'conference data ignored without conferenceDataVersion=1')

  const req1 = { createRequest: { requestId: 'req-1', conferenceSolutionKey: { type: 'hangoutsMeet' } } }
  const ev = await call('POST', `${CAL}?conferenceDataVersion=1&sendUpdates=none`, at, { summary: 'Follow-up', ...when, conferenceData: req1 })
  t.equal(ev.status, 200)
  t.ok(ev.json.htmlLink)
  t.match(ev.json.hangoutLink, /^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/)
  t.equal(ev.json.conferenceData.createRequest.status.statusCode, 'success')
  const video = ev.json.conferenceData.entryPoints.find((e: any) => e.entryPointType === 'video')
  const phone = ev.json.conferenceData.entryPoints.find((e: any) => e.entryPointType === 'phone')
  t.equal(video.uri, ev.json.hangoutLink)
  t.match(phone.uri, /^tel:\+/)
  t.ok(phone.pin && phone.regionCode)
  const eid: string = ev.json.id

  const dup = await call('POST', `${CAL}?conferenceDataVersion=1`, at, { summary: 'Duplicate', ...when, conferenceData: req1 })
  // CreateConferenceRequest: "If an ID provided is the same as for the previous request, the request is ignored."
  t.equal(dup.json.conferenceData, undefined, 'reused requestId on a new event: ignored, no conference')
  t.equal(dup.json.hangoutLink, undefined)

  // pending → success after n polls
  fake.knobs.pendingPolls = 2
  const pend = await call('POST', `${CAL}?conferenceDataVersion=1`, at, {
    summary: 'Slow',
    ...when,
    conferenceData: { createRequest: { requestId: 'req-2', conferenceSolutionKey: { type: 'hangoutsMeet' } } },
  })
  t.equal(pend.json.conferenceData.createRequest.status.statusCode, 'pending')
  t.notOk(pend.json.hangoutLink)
  t.notOk(pend.json.conferenceData.entryPoints)
  const poll = async () => (await call('GET', `${CAL}/${pend.json.id}`, at)).json
  t.equal((await poll()).conferenceData.createRequest.status.statusCode, 'pending')
  t.equal((await poll()).conferenceData.createRequest.status.statusCode, 'pending')
  const done = await poll()
  t.equal(done.conferenceData.createRequest.status.statusCode, 'success')
  t.ok(done.hangoutLink)
  fake.reset()

  const patched = await call('PATCH', `${CAL}/${eid}?conferenceDataVersion=1`, at, { summary: 'Renamed', start: { dateTime: '2030-05-02T10:00:00Z' }, end: { dateTime: '2030-05-02T11:00:00Z' } })
  t.equal(patched.status, 200)
  t.equal(patched.json.summary, 'Renamed')
  t.equal(patched.json.sequence, 1)
  t.equal(patched.json.hangoutLink, ev.json.hangoutLink, 'link kept')
  t.equal((await call('GET', `${env(fake, 'GOOGLE_API_URL')}/calendars/other%40example.com/events/${eid}`, at)).status, 404, 'wrong calendar')
  t.equal((await call('DELETE', `${CAL}/${eid}`, at)).status, 204)
  const gone = await call('DELETE', `${CAL}/${eid}`, at)
  t.equal(gone.status, 410)
  t.equal(gone.json.error.message, 'Resource has been deleted')
  t.equal((await call('GET', `${CAL}/${eid}`, at)).json.status, 'cancelled')

  // Refresh keeps the refresh token and omits it.
  const r1 = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: rt })
  t.equal(r1.status, 200)
  t.notOk('refresh_token' in r1.json)
  t.not(r1.json.access_token, at)
  t.equal((await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: rt })).status, 200, 'same refresh token keeps working')

  // 429
  fake.knobs.apiStatus = 429
  fake.knobs.retryAfterSeconds = 2
  const lim = await call('GET', `${CAL}/${eid}`, at)
  t.equal(lim.status, 429)
  t.equal(lim.headers.get('retry-after'), '2')
  t.equal(lim.json.error.errors[0].reason, 'rateLimitExceeded')
  fake.reset()

  // Revoke (token in the query) → refresh invalid_grant, API 401.
  const rev = await toRes(await fetch(`${env(fake, 'GOOGLE_REVOKE_URL')}?token=${encodeURIComponent(r1.json.access_token)}`, { method: 'POST' }))
  t.equal(rev.status, 200)
  const dead = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: rt })
  t.same(dead.json, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })
  const unauth = await call('GET', `${CAL}/${eid}`, r1.json.access_token)
  t.equal(unauth.status, 401)
  t.equal(unauth.json.error.status, 'UNAUTHENTICATED')
  t.equal((await postForm(env(fake, 'GOOGLE_REVOKE_URL'), { token: rt })).status, 400, 'revoking twice: invalid_token')

  // After revocation a new consent returns a refresh token again; a dropped scope gives 403.
  fake.knobs.dropScope = 'https://www.googleapis.com/auth/calendar.events'
  const narrow = await connect()
  t.ok(narrow.json.refresh_token)
  const forbidden = await call('POST', CAL, narrow.json.access_token, { summary: 'x', ...when })
  t.equal(forbidden.status, 403)
  t.equal(forbidden.json.error.errors[0].reason, 'insufficientPermissions')
  fake.reset()
})

// =====================================================================================================
t.test('webex', async (t) => {
  const fake = await startWebexFake()
  t.teardown(() => fake.close())
  const A = env(fake, 'WEBEX_AUTHORIZE_URL')
  const T = env(fake, 'WEBEX_TOKEN_URL')
  const API = env(fake, 'WEBEX_API_URL')
  t.equal(fake.env.WEBEX_REVOKE_URL, '')
  const SCOPE = 'spark:people_read meeting:schedules_read meeting:schedules_write'
  const secret = { client_id: fake.clientId, client_secret: fake.clientSecret }

  const pkce = newPkcePair()
  const a = await authorize(A, {
    client_id: fake.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: SCOPE,
    state: 'wx',
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  })
  t.equal(a.status, 302)
  t.equal(a.params.get('state'), 'wx')
  const code = a.params.get('code') ?? ''
  t.match(code, /^CANARY-webex-code-/)

  const basicOnly = await postForm(T, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier }, basic(fake.clientId, fake.clientSecret))
  t.equal(basicOnly.status, 400, 'Webex wants the credentials in the body')
  t.ok(basicOnly.json.trackingId)
  const tok = await postForm(T, { ...secret, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: pkce.verifier })
  t.equal(tok.status, 200)
  t.equal(tok.json.token_type, 'Bearer')
  t.equal(tok.json.expires_in, 1209599)
  t.equal(tok.json.refresh_token_expires_in, 7775999)
  t.match(tok.json.refresh_token, /^CANARY-webex-rt-/)
  const at: string = tok.json.access_token
  const rt: string = tok.json.refresh_token

  const me = await call('GET', env(fake, 'WEBEX_USERINFO_URL'), at)
  t.equal(me.status, 200)
  t.same(me.json.emails, ['wendy.webex@example.com'])
  t.ok(me.json.id && me.json.orgId && me.json.displayName)
  const anon = await call('GET', env(fake, 'WEBEX_USERINFO_URL'))
  t.equal(anon.status, 401)
  t.equal(anon.json.message, 'The request requires a valid access token set in the Authorization request header.')

  const body = { title: 'Follow-up', start: '2030-05-01T10:00:00Z', end: '2030-05-01T10:30:00Z', timezone: 'UTC', enabledJoinBeforeHost: true }
  const created = await call('POST', `${API}/meetings`, at, body)
  t.equal(created.status, 200)
  t.match(created.json.meetingNumber, /^\d{11}$/)
  t.ok(created.json.webLink && created.json.sipAddress && created.json.password && created.json.phoneAndVideoSystemPassword)
  t.equal(created.json.enabledJoinBeforeHost, true)
  t.equal(created.json.telephony.callInNumbers[0].tollType, 'toll')
  t.ok(created.json.telephony.accessCode)
  const id: string = created.json.id
  const past = await call('POST', `${API}/meetings`, at, { ...body, start: '2001-01-01T10:00:00Z', end: '2001-01-01T11:00:00Z' })
  t.equal(past.status, 400)
  t.equal(past.json.errors[0].description, "Parameter 'start' or 'end' is before current time.")

  t.equal((await call('PUT', `${API}/meetings/${id}`, at, { title: 'No times' })).status, 400, 'PUT is a full replace')
  const put = await call('PUT', `${API}/meetings/${id}`, at, { ...body, title: 'Replaced' })
  t.equal(put.status, 200)
  t.equal(put.json.title, 'Replaced')
  const patch = await call('PATCH', `${API}/meetings/${id}`, at, { title: 'Patched' })
  t.equal(patch.status, 200)
  t.equal(patch.json.title, 'Patched')
  t.equal((await call('GET', `${API}/meetings/${id}`, at)).json.title, 'Patched')
  t.equal((await call('DELETE', `${API}/meetings/${id}`, at)).status, 204)
  t.equal((await call('DELETE', `${API}/meetings/${id}`, at)).status, 404)
  t.equal((await call('GET', `${API}/meetings/${id}`, at)).status, 404)

  // Refresh: same refresh token back, new access token.
  const r1 = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: rt })
  t.equal(r1.status, 200)
  t.equal(r1.json.refresh_token, rt)
  t.not(r1.json.access_token, at)

  fake.knobs.tokenError = 'invalid_grant'
  const ig = await postForm(T, { ...secret, grant_type: 'refresh_token', refresh_token: rt })
  t.equal(ig.status, 400)
  t.match(ig.json.message, /invalid_grant/)
  fake.reset()

  fake.knobs.apiStatus = 429
  fake.knobs.retryAfterSeconds = 4
  const lim = await call('POST', `${API}/meetings`, r1.json.access_token, body)
  t.equal(lim.status, 429)
  t.equal(lim.headers.get('retry-after'), '4')
  fake.reset()

  fake.knobs.apiGarbageJson = true
  const garbage = await call('GET', `${API}/meetings/x`, r1.json.access_token)
  t.equal(garbage.json, undefined, 'unparseable JSON body')
  fake.reset()

  fake.knobs.dropScope = 'meeting:schedules_write'
  const p2 = newPkcePair()
  const a2 = await authorize(A, { client_id: fake.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p2.challenge, code_challenge_method: 'S256' })
  const narrow = await postForm(T, { ...secret, grant_type: 'authorization_code', code: a2.params.get('code') ?? '', redirect_uri: REDIRECT, code_verifier: p2.verifier })
  t.equal((await call('POST', `${API}/meetings`, narrow.json.access_token, body)).status, 403)
  fake.reset()
})
