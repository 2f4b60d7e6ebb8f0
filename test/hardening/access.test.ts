/**
 * Issue 8, "Access": every route of the route table for an anonymous visitor, a user and an administrator;
 * user A (Alice) against user B's (Bob's) follow-ups, connection and mail settings; CSRF token missing or
 * wrong on every POST; sessions (fixation, sign-out, expiry, cookie flags) and the sign-in rate limit.
 */
import './fast-scrypt.js'
import crypto from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { Client, setUpAdmin, testApp, ADMIN } from '../helpers/app.js'
import { defaultParams, fill, isSandboxApi, postSpecs, type Field } from './spec.js'
import { BOB_SMTP_HOST, buildWorld, changedTables, checksum, cookieOf, dump, FOLLOW_UP, signInAs, USER_PASSWORD, type World } from './world.js'

/** Pages anyone may open (the Sandbox's pages play an outside provider's sign-in and meeting pages). */
const PUBLIC = new Set(['/assets/:hash/*', '/favicon.ico', '/healthz', '/readyz', '/sign-in', '/setup', '/sandbox/oauth/authorize', '/sandbox/meet/:id'])

type Area = 'public' | 'api' | 'admin' | 'user'
function areaOf(url: string): Area {
  if (isSandboxApi(url)) return 'api'
  if (PUBLIC.has(url)) return 'public'
  if (url === '/settings' || url.startsWith('/settings/')) return 'admin'
  return 'user'
}

/** What a signed-in GET answers when not 200. */
const SIGNED_IN_GET: Record<string, number> = {
  '/': 303,
  '/preferences': 303,
  '/settings': 303,
  '/sign-in': 303,
  '/setup': 404,
  '/favicon.ico': 301,
  '/sandbox/oauth/authorize': 400,
  '/sandbox/meet/:id': 404,
  // Without a held sign-in there is nothing to confirm.
  '/preferences/video-meetings/replace': 404,
  // Without a state: refused, back to a page with the message.
  '/oauth/:provider/callback': 303,
}

/** Real ids of the acting user's own things. */
function ownParams(url: string, w: World, as: 'alice' | 'admin'): Record<string, string> {
  const params = defaultParams(url, w)
  if (url.startsWith('/follow-ups/') && as === 'admin') {
    params.id = String(w.ids.adminFollowUp)
    if ('outboxId' in params) params.outboxId = String(w.ids.adminOutbox)
  }
  if (url.startsWith('/settings/video-meetings/clients/')) params.provider = 'zoom'
  return params
}

function formBody(token: string | undefined, fields: Record<string, Field | string | string[]>): string {
  const body = new URLSearchParams()
  if (token !== undefined) body.append('_csrf', token)
  for (const [k, f] of Object.entries(fields)) for (const v of [typeof f === 'object' && !Array.isArray(f) ? f.value : f].flat()) body.append(k, v)
  return body.toString()
}

interface Session {
  client: Client
  /** The raw cookie value: "<session id>.<signature>". */
  cookie: string
}

const sessionIdOf = (cookie: string) => decodeURIComponent(cookie).split('.')[0]!
const idHash = (sessionId: string) => crypto.createHash('sha256').update(sessionId).digest('base64url')

t.test('every route: anonymous, user, administrator', async (t) => {
  const w = await buildWorld(t)
  const { app } = w
  await w.alice.get('/preferences/general')
  await w.admin.get('/settings/users')
  const anonymous = new Client(app)
  await anonymous.get('/sign-in')
  const specs = postSpecs(w)
  const baseline = checksum(app.db)
  const before = dump(app.db)

  /** Runs a request and rolls back whatever it did; answers with the tables it changed. */
  const run = async (client: Client | null, method: string, url: string, body?: string, headers: Record<string, string> = {}) => {
    // /readyz proves the database writable with BEGIN IMMEDIATE: not inside a savepoint.
    if (url === '/readyz') return { res: await app.inject({ method: method as 'GET', url }), changed: [] as string[] }
    app.db.exec('SAVEPOINT access')
    try {
      const res = await app.inject({
        method: method as 'GET',
        url,
        ...(body !== undefined && { payload: body }),
        headers: { ...(client && { cookie: cookieOf(client) }), ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }), ...headers },
      })
      const changed = checksum(app.db) === baseline ? [] : changedTables(before, dump(app.db))
      return { res, changed }
    } finally {
      app.db.exec('ROLLBACK TO access; RELEASE access')
    }
  }

  const routes = app.routeTable
  t.ok(routes.length > 40, `${routes.length} routes in the table`)
  const pagesSeenByAlice: string[] = []

  for (const route of routes) {
    const area = areaOf(route.url)
    const name = `${route.method} ${route.url}`
    const isGet = route.method === 'GET' || route.method === 'HEAD'
    const spec = specs[route.url]
    const params = spec?.params?.[0] ?? ownParams(route.url, w, 'alice')
    const fields = spec ? (typeof spec.fields === 'function' ? spec.fields(params) : spec.fields) : {}

    if (area === 'api') {
      // The Sandbox's server-to-server API: its own credentials, never the session; JSON errors.
      const url = fill(route.url, params)
      const tries: [string, Client | null, Record<string, string>][] = [
        ['no credentials', null, {}],
        ['a made-up bearer token', null, { authorization: 'Bearer made-up-token' }],
        ['wrong basic credentials', null, { authorization: `Basic ${Buffer.from('video-meetings-sandbox:wrong').toString('base64')}` }],
        ["Alice's session cookie and CSRF token", w.alice, { 'x-csrf-token': w.alice.csrf }],
      ]
      for (const [label, client, headers] of tries) {
        const body = route.method === 'GET' || route.method === 'HEAD' || route.method === 'DELETE' ? undefined : 'grant_type=refresh_token&refresh_token=x&token=x&title=x'
        const { res, changed } = await run(client, route.method, url, body, headers)
        t.ok(res.statusCode === 401 || res.statusCode === 400, `${name}, ${label}: 401 or 400 (${res.statusCode})`)
        if (route.method !== 'HEAD') t.match(String(res.headers['content-type']), /^application\/json/, `${name}, ${label}: JSON`)
        t.same(changed, [], `${name}, ${label}: nothing changed`)
      }
      continue
    }

    // Anonymous.
    {
      const url = fill(route.url, params)
      const body = isGet ? undefined : formBody(anonymous.csrf, fields)
      const { res, changed } = await run(anonymous, route.method, url, body)
      t.ok(res.statusCode < 500, `${name} anonymous: no 5xx (${res.statusCode})`)
      if (area !== 'public') {
        t.equal(res.statusCode, 303, `${name} anonymous: 303`)
        t.match(String(res.headers.location), /^\/sign-in(\?next=|$)/, `${name} anonymous: to the sign-in page`)
        if (route.method === 'GET') t.equal(res.headers.location, `/sign-in?next=${encodeURIComponent(url)}`, `${name} anonymous: and back here afterwards`)
        t.same(changed, [], `${name} anonymous: nothing changed`)
        // The same from htmx: no content, the sign-in page in HX-Redirect.
        const hx = await run(anonymous, route.method, url, body, { 'hx-request': 'true' })
        t.equal(hx.res.statusCode, 204, `${name} anonymous htmx: 204`)
        t.match(String(hx.res.headers['hx-redirect']), /^\/sign-in/, `${name} anonymous htmx: HX-Redirect to the sign-in page`)
        t.same(hx.changed, [], `${name} anonymous htmx: nothing changed`)
      }
    }

    if (!isGet) {
      // A user posting to an administrator's route: refused before anything happens.
      if (area === 'admin') {
        const url = fill(route.url, params)
        const { res, changed } = await run(w.alice, route.method, url, formBody(w.alice.csrf, fields))
        t.equal(res.statusCode, 403, `${name} as a user: 403`)
        t.same(changed, [], `${name} as a user: nothing changed`)
      }
      continue
    }

    // Signed in: a user and an administrator.
    for (const as of ['alice', 'admin'] as const) {
      const client = as === 'alice' ? w.alice : w.admin
      const url = fill(route.url, ownParams(route.url, w, as))
      const { res } = await run(client, route.method, url)
      const expected = area === 'admin' && as === 'alice' ? 403 : (SIGNED_IN_GET[route.url] ?? 200)
      t.equal(res.statusCode, expected, `${name} as ${as === 'alice' ? 'a user' : 'an administrator'}: ${expected}`)
      if (as === 'alice' && route.method === 'GET') pagesSeenByAlice.push(`${url}\n${res.body}`)
    }
  }

  // Nothing of Bob's on any page Alice can open.
  const leaks = pagesSeenByAlice.filter((page) => page.includes(BOB_SMTP_HOST) || page.includes('Bob private review') || page.includes('bob@sandbox.example'))
  t.same(leaks.map((p) => p.split('\n', 1)[0]), [], `none of Alice's ${pagesSeenByAlice.length} pages shows Bob's mail server, follow-up or connection`)
  t.comment(`${w.requests()} requests`)
})

t.test("no IDOR: Alice against Bob's follow-ups, connection and mail settings", async (t) => {
  const w = await buildWorld(t)
  const { app, alice, ids } = w
  await alice.get('/preferences/general')
  const baseline = checksum(app.db)
  const before = dump(app.db)
  const changes = () => (checksum(app.db) === baseline ? [] : changedTables(before, dump(app.db)))

  // Every /follow-ups/:id… route, GET and POST, with Bob's id (and Bob's invitation).
  const followUpRoutes = app.routeTable.filter((r) => r.url.startsWith('/follow-ups/:id'))
  t.ok(followUpRoutes.length >= 8, `${followUpRoutes.length} follow-up routes`)
  const form = formBody(alice.csrf, { ...FOLLOW_UP, title: 'Hijacked by Alice', attendees: 'alice-friend@example.org' })
  for (const route of followUpRoutes) {
    for (const [label, params] of [
      ["Bob's follow-up", { id: String(ids.bobFollowUp), outboxId: String(ids.bobOutbox) }],
      ["her follow-up with Bob's invitation", { id: String(ids.aliceFollowUp), outboxId: String(ids.bobOutbox) }],
      ["the administrator's follow-up", { id: String(ids.adminFollowUp), outboxId: String(ids.adminOutbox) }],
    ] as const) {
      if (label !== "her follow-up with Bob's invitation" || route.url.includes(':outboxId')) {
        const url = fill(route.url, params)
        const res = await alice.request({
          method: route.method as 'GET',
          url,
          ...(route.method === 'POST' && { payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        })
        t.equal(res.statusCode, 404, `${route.method} ${url} (${label}): 404`)
        t.notMatch(res.body, /Bob private review|Admin planning/, `${route.method} ${url}: nothing of it shown`)
        t.same(changes(), [], `${route.method} ${url}: nothing changed`)
      }
    }
  }
  t.equal(app.db.prepare("SELECT state FROM outbox WHERE id = ?").pluck().get(ids.bobOutbox), 'failed', "Bob's failed invitation is still failed")

  // Connections: only administrators remove someone's connection, by its id; no user route takes one.
  const removeBob = await alice.post(`/settings/video-meetings/users/${ids.bobConnection}/remove`)
  t.equal(removeBob.statusCode, 403, "removing Bob's connection as a user: 403")
  const userRoutesWithIds = app.routeTable
    .filter((r) => /:\w/.test(r.url) && !r.url.startsWith('/settings/') && !r.url.startsWith('/sandbox/'))
    .map((r) => r.url.replace(/:(\w+)/g, '{$1}'))
  t.same(
    [...new Set(userRoutesWithIds)].filter((u) => !u.startsWith('/follow-ups/{id}')),
    ['/assets/{hash}/*', '/oauth/{provider}/callback'],
    'the only user-facing routes with ids are follow-ups (scoped to their owner), assets and the OAuth callback: none takes a connection id',
  )
  const forged: Record<string, string>[] = [{ id: String(ids.bobConnection) }, { connectionId: String(ids.bobConnection), userId: String(ids.bob) }]
  for (const body of forged) {
    const res = await alice.post('/preferences/video-meetings/disconnect', body)
    t.equal(res.statusCode, 303, 'disconnect answers with the page')
  }
  t.ok(app.services.connections.get(ids.bobConnection), "Bob's connection is still there")
  t.same(changes(), [], 'nothing changed')

  // Mail settings: there is no id; Alice's page shows her settings only, whatever she sends.
  const page = await alice.get('/preferences/email')
  t.equal(page.statusCode, 200)
  t.notMatch(page.body, BOB_SMTP_HOST, "Alice's email page never shows Bob's server")
  t.match(page.body, 'value="127.0.0.1"', 'it shows her own')
  for (const url of ['/preferences/email?userId=' + ids.bob, `/preferences/email?user=${ids.bob}&id=${ids.bob}`]) {
    t.notMatch((await alice.get(url)).body, BOB_SMTP_HOST, `${url}: not Bob's`)
  }
  const bobMail = () => JSON.stringify(app.db.prepare('SELECT * FROM mail_settings WHERE user_id = ?').get(ids.bob))
  const bobBefore = bobMail()
  await alice.get('/preferences/email')
  await alice.post('/preferences/email/remove', { userId: String(ids.bob), user_id: String(ids.bob), id: String(ids.bob) })
  await alice.get('/preferences/email')
  await alice.post('/preferences/email', { host: 'smtp.alice.example', port: '587', security: 'starttls', username: '', password: '', fromName: 'Alice', fromAddress: 'alice@example.com', userId: String(ids.bob), user_id: String(ids.bob) })
  t.equal(bobMail(), bobBefore, "Bob's mail settings unchanged by Alice's remove and save")
  t.notMatch((await alice.get('/preferences/email')).body, BOB_SMTP_HOST)
  t.comment(`${w.requests()} requests`)
})

t.test('CSRF: a missing or wrong token on every POST is refused and changes nothing', async (t) => {
  const w = await buildWorld(t)
  const { app } = w
  await w.alice.get('/preferences/general')
  await w.bob.get('/preferences/general')
  await w.admin.get('/settings/users')
  const anonymous = new Client(app)
  await anonymous.get('/sign-in')
  const specs = postSpecs(w)
  const baseline = checksum(app.db)
  const before = dump(app.db)
  const posts = app.routeTable.filter((r) => r.method === 'POST' && r.csrf)
  t.ok(posts.length >= 25, `${posts.length} POST routes with CSRF protection`)

  let refused = 0
  for (const route of posts) {
    const spec = specs[route.url]
    const params = spec?.params?.[0] ?? defaultParams(route.url, w)
    const fields = spec ? (typeof spec.fields === 'function' ? spec.fields(params) : spec.fields) : {}
    const as = spec?.as ?? (route.url.startsWith('/settings') ? 'admin' : 'alice')
    const client = as === 'admin' ? w.admin : as === 'alice' ? w.alice : anonymous
    const url = fill(route.url, params)
    const other = as === 'alice' ? w.bob.csrf : w.alice.csrf
    const cases: [string, string | undefined, Record<string, string>, string?][] = [
      ['no token', undefined, {}],
      ['empty token', '', {}],
      ['wrong token', 'wrong-token', {}],
      ['token one character off', client.csrf.slice(0, -1) + (client.csrf.endsWith('A') ? 'B' : 'A'), {}],
      ["another session's token", other, {}],
      ["another session's token in the header", undefined, { 'x-csrf-token': other }],
      ['wrong header, no field', undefined, { 'x-csrf-token': 'wrong-token' }],
      ['token in the query string only', undefined, {}, `?_csrf=${encodeURIComponent(client.csrf)}`],
      ['token twice (array)', undefined, {}, undefined],
      ['no session cookie', client.csrf, { cookie: '' }],
    ]
    for (const [label, token, headers, query] of cases) {
      let body = formBody(token, fields)
      if (label === 'token twice (array)') body = `_csrf=${encodeURIComponent(client.csrf)}&_csrf=${encodeURIComponent(client.csrf)}&${formBody(undefined, fields)}`
      app.db.exec('SAVEPOINT csrf')
      try {
        const res = await app.inject({
          method: 'POST',
          url: url + (query ?? ''),
          payload: body,
          headers: { cookie: cookieOf(client), 'content-type': 'application/x-www-form-urlencoded', ...headers },
        })
        t.equal(res.statusCode, 403, `${route.url}, ${label}: 403`)
        if (res.statusCode === 403) refused++
        t.same(checksum(app.db) === baseline ? [] : changedTables(before, dump(app.db)), [], `${route.url}, ${label}: nothing changed`)
      } finally {
        app.db.exec('ROLLBACK TO csrf; RELEASE csrf')
      }
    }
    // The right token still works (so the refusals above are the token's doing).
    app.db.exec('SAVEPOINT csrf')
    try {
      const ok = await app.inject({ method: 'POST', url, payload: formBody(client.csrf, fields), headers: { cookie: cookieOf(client), 'content-type': 'application/x-www-form-urlencoded' } })
      if (route.url !== '/setup') t.not(ok.statusCode, 403, `${route.url}: the right token is accepted (${ok.statusCode})`)
    } finally {
      app.db.exec('ROLLBACK TO csrf; RELEASE csrf')
    }
  }
  t.comment(`${refused} forged requests refused`)
  t.comment(`${w.requests()} requests`)
})

t.test('sessions: fixation, sign-out, expiry, deactivation, cookie flags', async (t) => {
  const w = await buildWorld(t)
  const { app } = w
  const email = w.signInEmails[0]!
  const sessionRow = (cookie: string) => app.db.prepare('SELECT COUNT(*) FROM sessions WHERE id_hash = ?').pluck().get(idHash(sessionIdOf(cookie)))
  const canOpen = async (cookie: string) => (await app.inject({ url: '/follow-ups', headers: { cookie: `vm_session=${cookie}` } })).statusCode === 200

  // Fixation: the anonymous session (with its CSRF token) is replaced at sign-in.
  const client = new Client(app)
  await client.get('/sign-in')
  const anonymousCookie = client.cookies.get('vm_session')!
  t.ok(anonymousCookie, 'an anonymous session before signing in')
  t.equal(sessionRow(anonymousCookie), 1)
  const signIn = await client.post('/sign-in', { email, password: USER_PASSWORD })
  t.equal(signIn.statusCode, 303)
  const signedIn = client.cookies.get('vm_session')!
  t.not(sessionIdOf(signedIn), sessionIdOf(anonymousCookie), 'a new session id at sign-in')
  t.equal(sessionRow(anonymousCookie), 0, 'the old session is gone from the store')
  t.notOk(await canOpen(anonymousCookie), 'the pre-sign-in cookie does not open private pages')
  t.ok(await canOpen(signedIn), 'the new one does')
  const cookie = signIn.cookies.find((c) => c.name === 'vm_session') as { httpOnly?: boolean; sameSite?: string; secure?: boolean; path?: string; domain?: string; maxAge?: number; expires?: Date }
  t.equal(cookie.httpOnly, true, 'HttpOnly')
  t.equal(cookie.sameSite, 'Lax', 'SameSite=Lax')
  t.equal(cookie.path, '/', 'Path=/')
  t.notOk(cookie.domain, 'no Domain')
  t.notOk(cookie.secure, 'not Secure over plain http (it would never be sent back)')
  t.ok(cookie.maxAge || cookie.expires, 'expires')

  // A cookie whose signature does not match is not a session.
  const [id, signature] = decodeURIComponent(signedIn).split('.')
  t.notOk(await canOpen(encodeURIComponent(`${id}.${signature!.slice(0, -2)}AA`)), 'a tampered signature opens nothing')
  t.notOk(await canOpen(encodeURIComponent(id!)), 'an unsigned session id opens nothing')

  // An attacker-chosen (unsigned or forged) session id is never adopted.
  const planted = new Client(app)
  planted.cookies.set('vm_session', 'attacker-chosen-id.forged-signature')
  await planted.get('/sign-in')
  await planted.post('/sign-in', { email, password: USER_PASSWORD })
  t.not(sessionIdOf(planted.cookies.get('vm_session')!), 'attacker-chosen-id', 'a planted session id is replaced')

  // Sign-out ends the session on the server, not just in the browser.
  await client.get('/follow-ups')
  const out = await client.post('/sign-out')
  t.equal(out.statusCode, 303)
  t.equal(out.headers.location, '/sign-in')
  t.equal(sessionRow(signedIn), 0, 'the session is deleted from the store')
  t.notOk(await canOpen(signedIn), 'the old cookie, replayed, no longer opens private pages')
  const replayedPost = await app.inject({ method: 'POST', url: '/preferences/general', payload: 'name=Replayed&language=en&timeZone=UTC', headers: { cookie: `vm_session=${signedIn}`, 'content-type': 'application/x-www-form-urlencoded' } })
  t.not(replayedPost.statusCode, 303, 'nor posts')
  t.notOk(app.db.prepare("SELECT 1 FROM users WHERE name = 'Replayed'").get(), 'nothing saved')

  // Expiry: a session past its expires_at is refused (and the cookie's own expiry says the same).
  const later = await signInAs(app, email, USER_PASSWORD)
  const laterCookie = later.cookies.get('vm_session')!
  t.ok(await canOpen(laterCookie))
  app.db.prepare('UPDATE sessions SET expires_at = ? WHERE id_hash = ?').run(Date.now() - 1000, idHash(sessionIdOf(laterCookie)))
  const expired = await later.get('/follow-ups')
  t.equal(expired.statusCode, 303, 'an expired session is refused')
  t.match(String(expired.headers.location), /^\/sign-in/)
  const expiredPost = await app.inject({ method: 'POST', url: '/sign-out', payload: '', headers: { cookie: `vm_session=${laterCookie}`, 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': later.csrf } })
  t.equal(expiredPost.statusCode, 403, 'and cannot post (its CSRF token went with it)')

  // A deactivated user's live session stops working at once.
  const bobCookie = w.bob.cookies.get('vm_session')!
  t.ok(await canOpen(bobCookie))
  await w.admin.submit(`/settings/users/${w.ids.bob}`, `/settings/users/${w.ids.bob}/active`, { active: 'false' })
  t.notOk(await canOpen(bobCookie), "a deactivated user's session no longer opens pages")
  t.comment(`${w.requests()} requests`)
})

t.test('under https behind a proxy: __Host- cookie, Secure, HttpOnly, SameSite=Lax', async (t) => {
  const app = await testApp(t, { BASE_URL: 'https://meet.example.org', TRUST_PROXY: '1' }, { startWorkers: false })
  const https = { 'x-forwarded-proto': 'https' }
  const client = new Client(app)
  const check = (res: LightMyRequestResponse, label: string) => {
    const raw = [res.headers['set-cookie']].flat().filter(Boolean).map(String)
    t.equal(raw.length, 1, `${label}: one cookie`)
    const header = raw[0] ?? ''
    t.match(header, /^__Host-vm_session=/, `${label}: __Host- prefix`)
    t.match(header, /;\s*Secure/i, `${label}: Secure`)
    t.match(header, /;\s*HttpOnly/i, `${label}: HttpOnly`)
    t.match(header, /;\s*SameSite=Lax/i, `${label}: SameSite=Lax`)
    t.match(header, /;\s*Path=\/(;|$)/i, `${label}: Path=/`)
    t.notMatch(header, /;\s*Domain=/i, `${label}: no Domain (required by __Host-)`)
  }
  check(await client.get('/setup', https), 'first visit')
  const setup = await client.post('/setup', { ...ADMIN }, https)
  t.equal(setup.statusCode, 303)
  check(setup, 'after setup (a new session)')
  await client.get('/preferences/general', https)
  const out = await client.post('/sign-out', {}, https)
  t.equal(out.statusCode, 303)
  await client.get('/sign-in', https)
  const signIn = await client.post('/sign-in', { email: ADMIN.email, password: ADMIN.password }, https)
  t.equal(signIn.statusCode, 303)
  check(signIn, 'at sign-in')
  // A request that reached the app over plain http (no proxy header): no session cookie at all, or a Secure one.
  const plain = await new Client(app).get('/sign-in')
  const plainCookies = [plain.headers['set-cookie']].flat().filter(Boolean).map(String)
  t.ok(plainCookies.every((c) => /^__Host-vm_session=.*;\s*Secure/i.test(c)), `over plain http: ${plainCookies.length ? 'a Secure __Host- cookie' : 'no cookie'}`)
})

t.test('sign-in rate limit: works, and the same for known and unknown emails', async (t) => {
  const w = await buildWorld(t)
  const { app } = w
  let address = 0
  const attempt = async (email: string, password: string, ip?: string) => {
    const client = new Client(app)
    await client.get('/sign-in')
    const token = client.csrf
    const res = await app.inject({
      method: 'POST',
      url: '/sign-in',
      payload: formBody(token, { email, password, next: '/follow-ups' }),
      headers: { cookie: cookieOf(client), 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: ip ?? `192.0.2.${++address}`,
    })
    // The page echoes the email and carries its session's token: everything else must be the same.
    return { res, body: res.body.split(token).join('TOKEN').split(email).join('EMAIL') }
  }

  const known = w.signInEmails[1]!
  const unknown = 'nobody-here@example.com'
  for (let i = 1; i <= 5; i++) {
    const a = await attempt(known, 'wrong password!')
    const b = await attempt(unknown, 'wrong password!')
    t.equal(a.res.statusCode, 401, `known email, failure ${i}: 401`)
    t.equal(b.res.statusCode, 401, `unknown email, failure ${i}: 401`)
    t.equal(a.body, b.body, `failure ${i}: the same page for a known and an unknown email`)
  }
  const a = await attempt(known, 'wrong password!')
  const b = await attempt(unknown, 'wrong password!')
  t.equal(a.res.statusCode, 429, 'known email, 6th attempt: 429')
  t.equal(b.res.statusCode, 429, 'unknown email, 6th attempt: 429')
  t.equal(a.body, b.body, 'the same 429 page for both')
  t.equal(a.res.headers['retry-after'], b.res.headers['retry-after'], 'the same Retry-After for both')
  t.ok(Number(a.res.headers['retry-after']) > 0, 'Retry-After says when')
  const right = await attempt(known, USER_PASSWORD)
  t.equal(right.res.statusCode, 429, 'while limited, even the right password is refused (no oracle)')
  t.equal(right.body, a.body, 'with the same page')
  t.equal((await attempt(known.toUpperCase(), USER_PASSWORD)).res.statusCode, 429, 'the same account in capitals is limited too')
  t.equal((await attempt(w.signInEmails[2]!, USER_PASSWORD)).res.statusCode, 303, 'another account is not affected')

  // Per address: 30 failures from one address, each on another email, then even a correct sign-in waits.
  const ip = '198.51.100.7'
  for (let i = 0; i < 30; i++) {
    const res = await attempt(i % 2 ? `spray-${i}@example.com` : w.signInEmails[3 + i / 2]!, 'wrong password!', ip)
    if (res.res.statusCode !== 401) t.fail(`address failure ${i + 1}: ${res.res.statusCode}`)
  }
  t.equal((await attempt(w.signInEmails[2]!, USER_PASSWORD, ip)).res.statusCode, 429, 'after 30 failures from one address: 429, even with the right password')
  t.equal((await attempt(w.signInEmails[2]!, USER_PASSWORD)).res.statusCode, 303, 'from another address the same account signs in')
  t.comment(`${w.requests()} requests`)
})

t.test('setup page: gone after setup, for everyone', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const admin = await setUpAdmin(app)
  const before = checksum(app.db)
  for (const client of [admin, new Client(app)]) {
    await client.get('/sign-in')
    t.equal((await client.get('/setup')).statusCode, 404)
    const res = await client.post('/setup', { name: 'Mallory', email: 'mallory@example.com', password: 'a long enough password', language: 'en', timeZone: 'UTC' })
    t.ok(res.statusCode === 404 || res.statusCode === 403, `POST /setup afterwards: ${res.statusCode}`)
  }
  t.equal(checksum(app.db), before, 'no second administrator')
})
