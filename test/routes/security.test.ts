import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/logger.js'
import { addUser, ADMIN, Client, setUpAdmin, testApp, testConfig } from '../helpers/app.js'

function fill(url: string): string {
  return url.replace(/:(\w+)/g, '1').replace(/\*$/, 'x')
}

t.test('every POST route refuses a missing or wrong CSRF token and changes nothing', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const posts = app.routeTable.filter((r) => r.method === 'POST' && r.csrf)
  t.ok(posts.length >= 8, `${posts.length} POST routes found`)
  const before = JSON.stringify(app.db.prepare('SELECT * FROM users').all())
  for (const route of posts) {
    for (const token of ['', 'wrong-token']) {
      const res = await admin.post(fill(route.url), { _csrf: token, name: 'Mallory', email: 'm@example.com', password: 'long enough pw', role: 'admin', language: 'en', active: 'false', timeZone: 'UTC' })
      t.equal(res.statusCode, 403, `${route.url} with token "${token}"`)
    }
  }
  t.equal(JSON.stringify(app.db.prepare('SELECT * FROM users').all()), before, 'users unchanged')
  const viaHeader = await admin.request({
    method: 'POST',
    url: '/preferences/general',
    payload: 'name=Via+htmx&language=en&timeZone=UTC',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': admin.csrf, 'hx-request': 'true' },
  })
  t.equal(viaHeader.statusCode, 303, 'htmx sends the token in a header')
})

t.test('security headers on every response; strict CSP with no inline or eval', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const pages = ['/preferences/general', '/settings/users', '/nope', '/healthz']
  for (const url of pages) {
    const res = await admin.get(url)
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, "default-src 'self'", url)
    t.match(csp, "script-src 'self'")
    t.match(csp, "style-src 'self'")
    t.match(csp, "frame-ancestors 'none'")
    t.notMatch(csp, /unsafe-inline|unsafe-eval/)
    t.notMatch(csp, 'upgrade-insecure-requests', 'not over plain http')
    t.equal(res.headers['x-content-type-options'], 'nosniff')
    t.equal(res.headers['x-frame-options'], 'DENY')
    t.ok(res.headers['referrer-policy'])
    t.notOk(res.headers['strict-transport-security'], 'no HSTS over http')
  }
  const html = await admin.get('/preferences/general')
  t.notMatch(html.body, /<script>|<script [^>]*>[^<]|style="|\son\w+="/, 'no inline script, style or handlers')
  t.match(html.body, /<script src="\/assets\/[\w-]+\/vendor\/htmx\.min\.js" defer><\/script>/, 'htmx from our origin')
})

t.test('under https: HSTS, Secure __Host- cookie, upgrade-insecure-requests', async (t) => {
  const app = await testApp(t, { BASE_URL: 'https://meet.example.org', TRUST_PROXY: '1' })
  const res = await app.inject({ url: '/setup', headers: { 'x-forwarded-proto': 'https' } })
  t.match(String(res.headers['strict-transport-security']), 'max-age=31536000')
  t.match(String(res.headers['content-security-policy']), 'upgrade-insecure-requests')
  const cookie = String(res.headers['set-cookie'])
  t.match(cookie, /^__Host-vm_session=/)
  t.match(cookie, /Secure/)
  t.match(cookie, /HttpOnly/)
  t.match(cookie, /SameSite=Lax/)
})

t.test('static files: hashed URLs are immutable, compressed, and htmx is the pinned 2.0 line', async (t) => {
  const app = await testApp(t)
  const url = app.asset('vendor/htmx.min.js')
  const res = await app.inject({ url, headers: { 'accept-encoding': 'br, gzip' } })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-encoding'], 'br')
  t.match(String(res.headers['cache-control']), 'immutable')
  t.match(String(res.headers['content-type']), 'text/javascript')
  const plain = await app.inject({ url })
  t.match(plain.body, /version:"2\.0\.\d+"/)
  const stale = await app.inject({ url: url.replace(/\/assets\/[^/]+/, '/assets/old') })
  t.equal(stale.headers['cache-control'], 'no-cache', 'an old hash still gets the file, but not cached forever')
  t.not((await app.inject({ url: '/assets/x/../../package.json' })).statusCode, 200, 'no path traversal')
  t.equal((await app.inject({ url: '/assets/x/css/nope.css' })).statusCode, 404)
})

t.test('htmx requests for a panel get the partial; boosted ones the page; Vary says so', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const page = await admin.get('/settings/video-meetings')
  t.match(page.body, '<!doctype html>')
  t.match(String(page.headers.vary), 'HX-Request')
  const partial = await admin.get('/settings/video-meetings', { 'hx-request': 'true' })
  t.notMatch(partial.body, '<!doctype html>')
  t.match(partial.body, 'id="video-status"')
  const boosted = await admin.get('/settings/video-meetings', { 'hx-request': 'true', 'hx-boosted': 'true' })
  t.match(boosted.body, '<!doctype html>')
})

t.test('error pages are in the layout and the language, never a stack trace', async (t) => {
  const app = await testApp(t)
  app.get('/boom', async () => {
    throw new Error('secret internals at /home/x.ts:1')
  })
  const admin = await setUpAdmin(app)
  const missing = await admin.get('/does-not-exist', { 'accept-language': 'nl' })
  t.equal(missing.statusCode, 404)
  t.match(missing.body, 'Page not found', 'signed-in user: their language (en), not the header')
  const nl = await new Client(app).get('/does-not-exist', { 'accept-language': 'nl' })
  t.match(nl.body, 'Pagina niet gevonden')
  const boom = await admin.get('/boom')
  t.equal(boom.statusCode, 500)
  t.match(boom.body, 'Something went wrong')
  t.notMatch(boom.body, 'secret internals')
  const badBody = await admin.request({ method: 'POST', url: '/preferences/general', payload: '{"a":1}', headers: { 'content-type': 'application/json' } })
  t.ok(badBody.statusCode === 403 || badBody.statusCode === 415, `JSON is not accepted (${badBody.statusCode})`)
  const huge = await admin.post('/preferences/general', { name: 'x'.repeat(300_000), language: 'en', timeZone: 'UTC' })
  t.equal(huge.statusCode, 413)
  t.match(huge.body, 'Request not understood')
})

t.test('request logs: one line per request, path without query, no passwords or cookies', async (t) => {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const config = testConfig(t, { LOG_LEVEL: 'trace' })
  const options = (await loggerOptions(config)) as Record<string, unknown>
  const app = await buildApp(config, { logger: { ...options, stream } })
  t.teardown(() => app.close())
  const admin = await setUpAdmin(app)
  const before = lines.length
  await admin.get('/preferences/general?code=SECRET-CODE&state=SECRET-STATE')
  t.equal(lines.length - before, 1, 'exactly one line for one request')
  const bob = await addUser(app, admin, { name: 'Bob', email: 'bob@example.com', password: 'BOBS-SECRET-PASSWORD' })
  await bob.get('/preferences/general')
  const all = lines.join('')
  t.match(all, '"path":"/preferences/general"')
  for (const secret of ['SECRET-CODE', 'SECRET-STATE', ADMIN.password, 'BOBS-SECRET-PASSWORD', admin.cookies.get('vm_session')!, admin.csrf]) {
    t.notMatch(all, secret, `log free of ${secret.slice(0, 12)}…`)
  }
})
