/**
 * Issue 8, hardening: Debian's offline scanners against the real app on loopback.
 *
 * - wapiti (modules csrf, http_headers, cookieflags, csp, xss, sql, crlf, redirect), signed in as the
 *   administrator on the default configuration (plain http, as `npm start` runs it), then anonymously on the
 *   production configuration (BASE_URL https, TLS ended at a proxy: TRUST_PROXY=1 and X-Forwarded-Proto), which
 *   is the only way to reach the sign-in form and shows which header findings belong to plain http alone.
 * - sqlmap on the sign-in form and on the admin forms, with the CSRF token fetched for every request.
 *
 * Every finding must be in an allowlist below that says why it is a false positive (SECURITY.md repeats it).
 * The scans are checked for having really worked: the app's own request log must show the crawl signed in on
 * the admin pages, the attacks answered by the route handlers (not refused on CSRF), and sqlmap's payloads
 * bound into the SQL statements behind the forms.
 */
import '../hardening/fast-scrypt.js'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import type { Db } from '../../src/db/database.js'
import { FailureLimiter } from '../../src/security/rate-limit.js'
import { ADMIN, followUpForm, freePort, tempDir } from '../helpers/app.js'

// About 3½ minutes on two cores shared with other test files; generous for a slower, busier CI machine.
t.setTimeout(15 * 60 * 1000)

const WAPITI = '/usr/bin/wapiti'
const SQLMAP = '/usr/bin/sqlmap'
const WAPITI_MODULES = ['csrf', 'http_headers', 'cookieflags', 'csp', 'xss', 'sql', 'crlf', 'redirect']
const CONFIGURE = '/settings/video-meetings/configure'
const TOOL_HINT = 'run `node scripts/ensure-test-tools.mjs` (npm test does) or `sudo apt-get install -y wapiti sqlmap`'

interface Allowed {
  category: string
  info: string
  /** Reported only when BASE_URL is plain http; the production-configuration scan must not report it. */
  plainHttpOnly?: true
  reason: string
}

/** wapiti's findings that are not vulnerabilities, with the reason (also listed in SECURITY.md, "Scanners"). */
const WAPITI_FALSE_POSITIVES: Allowed[] = [
  {
    category: 'HTTP Secure Headers',
    info: 'X-XSS-Protection is not set',
    reason:
      'wapiti 3.0.4 wants "X-XSS-Protection: 1". That header drove the browsers\' XSS auditor, which Chrome and Edge ' +
      'removed and Firefox never had, and which could be abused to switch off scripts selectively or leak page ' +
      'content; OWASP advises not to send it (or to send 0, which wapiti reports just the same). The protection ' +
      'it stood for is the strict Content-Security-Policy on every response (script-src \'self\', no unsafe-inline).',
  },
  {
    category: 'HTTP Secure Headers',
    info: 'Strict-Transport-Security is not set',
    plainHttpOnly: true,
    reason:
      'Only on a plain-http BASE_URL (a LAN install): browsers ignore HSTS received over http (RFC 6797 section 8.1), ' +
      'so the app sends it exactly when BASE_URL is https; the production-configuration scan shows it is then present.',
  },
  {
    category: 'Secure Flag cookie',
    info: 'Secure flag is not set in the cookie : vm_session',
    plainHttpOnly: true,
    reason:
      'Only on a plain-http BASE_URL: a Secure cookie is never sent back over http, so nobody could stay signed in. ' +
      'Under https the cookie is __Host-vm_session with Secure (and HttpOnly, SameSite=Lax, path=/); the ' +
      'production-configuration scan shows the cookie without this finding.',
  },
]

// ---------------------------------------------------------------------------------------------------------------
// The app, with a log of what it answered

interface Served {
  method: string
  /** The route pattern (`/follow-ups/:id`), or `(none)` for a 404 without a route. */
  route: string
  status: number
  /** The request's session belongs to a signed-in user (checked before any CSRF or role refusal). */
  signedIn: boolean
  /** It carried a Cookie header (the app's own calls to its built-in provider do not). */
  cookie: boolean
}

/** The Sandbox's token, revocation and meetings API, which the app itself calls server to server (no cookie). */
const PROVIDER_API = /^\/sandbox\/(?:oauth\/(?:token|revoke)$|api\/)/

/** Requests that should have been signed in and were not: the session died, or the scanner never had it. */
function signedOut(served: Served[]): string[] {
  return served
    .filter((s) => !s.signedIn && !s.route.startsWith('/assets/') && !(PROVIDER_API.test(s.route) && !s.cookie))
    .map((s) => `${s.method} ${s.route} ${s.status}`)
}

interface Server {
  app: FastifyInstance
  url: string
  served: Served[]
}

/**
 * Like startServer (test/helpers/browser.ts): the real app on 127.0.0.1, on a fresh data directory, closed at the
 * end. In addition it records every response, and `https` gives the production configuration: BASE_URL https and
 * TRUST_PROXY=1, reached over plain http with `X-Forwarded-Proto: https` as a TLS-ending proxy would send it.
 */
async function startApp(t: Test, options: { https?: boolean } = {}): Promise<Server> {
  const dataDir = tempDir(t, 'vm-scan-')
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: String(port),
      BASE_URL: `${options.https ? 'https' : 'http'}://127.0.0.1:${port}`,
      SANDBOX: '1',
      ...(options.https && { TRUST_PROXY: '1' }),
    })
    // No background workers: mail and meeting jobs would only try to reach hosts the scanners typed in.
    const app = await buildApp(config, { startWorkers: false })
    const served: Served[] = []
    app.addHook('onResponse', async (request, reply) => {
      served.push({
        method: request.method,
        route: request.routeOptions.url ?? '(none)',
        status: reply.statusCode,
        signedIn: typeof request.session?.userId === 'number',
        cookie: request.headers.cookie !== undefined,
      })
    })
    try {
      await app.listen({ host: '127.0.0.1', port })
    } catch (error) {
      await app.close()
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue
      throw error
    }
    t.teardown(() => app.close())
    return { app, url: `http://127.0.0.1:${port}`, served }
  }
}

/** A browser stand-in over real HTTP: keeps cookies and the CSRF token of the last page it saw. */
class HttpClient {
  readonly cookies = new Map<string, string>()
  csrf = ''

  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** GET, or POST when a form is given (with the current CSRF token unless the form has one). Never follows redirects. */
  async request(target: string, form?: Record<string, string | string[]>): Promise<{ status: number; location: string; body: string }> {
    // Absolute locations name BASE_URL, which under the production configuration is https: go to where we listen.
    const url = new URL(target, this.base)
    let body: URLSearchParams | undefined
    if (form) {
      body = new URLSearchParams()
      if (!('_csrf' in form)) body.append('_csrf', this.csrf)
      for (const [key, value] of Object.entries(form)) for (const v of [value].flat()) body.append(key, v)
    }
    const res = await fetch(this.base + url.pathname + url.search, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...this.headers, ...(this.cookies.size && { cookie: this.cookieHeader }) },
      ...(body && { body }),
    })
    for (const set of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = set.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const gone = !value || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) <= Date.now()))
      if (gone) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await res.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1]
    if (token) this.csrf = token
    return { status: res.status, location: res.headers.get('location') ?? '', body: text }
  }

  async submit(page: string, action: string, form: Record<string, string | string[]>): Promise<{ status: number; location: string; body: string }> {
    await this.request(page)
    return this.request(action, form)
  }
}

function expectStatus(res: { status: number; body: string }, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${res.body.slice(0, 300)}`)
}

const { title: _title, video: _video, ...FOLLOW_UP } = followUpForm({ location: 'Room 1', attendees: 'ext@example.org' })

interface Installation {
  admin: HttpClient
  ids: { admin: number; bob: number; type: number; keptFollowUp: number; spareFollowUp: number; connection: number }
}

/**
 * An installation worth scanning, built over HTTP like a person would: setup (the admin is signed in), a user,
 * a follow-up type, the Sandbox as the organization's provider (its real consent screen), two follow-ups, and a
 * user connection so Manage users has a Remove form.
 */
async function prepareInstallation(server: Server, headers: Record<string, string> = {}): Promise<Installation> {
  const { app } = server
  const admin = new HttpClient(server.url, headers)
  expectStatus(await admin.submit('/setup', '/setup', ADMIN), 303, 'setup')
  expectStatus(
    await admin.submit('/settings/users', '/settings/users', { name: 'Bob Builder', email: 'bob@example.com', password: 'a long enough password', role: 'user', language: 'en' }),
    303,
    'adding a user',
  )
  expectStatus(await admin.submit('/settings/follow-up-types', '/settings/follow-up-types', { name: 'Check-in', videoDefault: 'true' }), 303, 'adding a type')

  await admin.request(CONFIGURE)
  const chosen = await admin.request(`${CONFIGURE}/sandbox`, {})
  expectStatus(chosen, 303, 'choosing the Sandbox')
  const consentPage = await admin.request(chosen.location)
  expectStatus(consentPage, 200, 'the Sandbox consent page')
  const consent: Record<string, string | string[]> = { email: 'ada@sandbox.example', name: 'Ada Sandbox', decision: 'allow', grant: ['profile', 'meetings'] }
  for (const [, name, value] of consentPage.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (name !== '_csrf') consent[name!] = value!.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"')
  }
  const allowed = await admin.request('/sandbox/oauth/authorize', consent)
  expectStatus(allowed, 303, 'consent')
  expectStatus(await admin.request(allowed.location), 303, 'the OAuth callback')
  if (app.services.video.organization()?.provider !== 'sandbox') throw new Error('the Sandbox is not the organization provider')

  const followUp = async (title: string): Promise<number> => {
    const res = await admin.submit('/follow-ups/new', '/follow-ups', { ...FOLLOW_UP, title })
    const id = /^\/follow-ups\/(\d+)$/.exec(res.location)?.[1]
    if (res.status !== 303 || !id) throw new Error(`creating a follow-up: ${res.status} ${res.body.slice(0, 300)}`)
    return Number(id)
  }
  const keptFollowUp = await followUp('Quarterly review')
  const spareFollowUp = await followUp('Spare review')

  const bob = app.services.users.findByEmailWithHash('bob@example.com')!.id
  const connection = app.services.connections.connect({
    userId: bob,
    provider: 'sandbox',
    accountId: 'bob',
    accountName: 'Bob Sandbox',
    accountEmail: 'bob@sandbox.example',
    grantedScope: 'profile meetings',
    tokens: { accessToken: 'access-bob', refreshToken: 'refresh-bob', expiresAt: Date.now() + 3_600_000, scope: 'profile meetings' },
  }).id
  return {
    admin,
    ids: {
      admin: app.services.users.findByEmailWithHash(ADMIN.email)!.id,
      bob,
      type: app.services.followUpTypes.list().find((type) => type.name === 'Check-in')!.id,
      keptFollowUp,
      spareFollowUp,
      connection,
    },
  }
}

/**
 * The sign-in limits (5 failures per account, 30 per address, per 15 minutes) would answer a scanner 429 after a
 * few attempts, so its payloads would never reach the email lookup. They are off while a scanner runs (in this
 * process only); test/routes/sign-in.test.ts proves them.
 */
function signInLimitsOff(t: Test): void {
  const original = Object.getOwnPropertyDescriptor(FailureLimiter.prototype, 'retryAfter')!
  FailureLimiter.prototype.retryAfter = () => 0
  t.teardown(() => Object.defineProperty(FailureLimiter.prototype, 'retryAfter', original))
}

/** Counts SQL statements run with a bound value that looks like one of sqlmap's payloads, by statement text. */
function sqlSpy(t: Test, db: Db): { start: () => void; stop: () => Map<string, number> } {
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<string, (...args: unknown[]) => unknown>
  const seen = new Map<string, number>()
  let active = false
  const payload = /'|\)|\b(?:AND|OR|SELECT|UNION)\b/
  const strings = (value: unknown): string[] =>
    typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(strings) : value && typeof value === 'object' ? Object.values(value).flatMap(strings) : []
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = proto[name]!
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      if (active && strings(args).some((s) => payload.test(s))) seen.set(this.source, (seen.get(this.source) ?? 0) + 1)
      return original.apply(this, args)
    }
    t.teardown(() => {
      proto[name] = original
    })
  }
  return {
    start: () => {
      seen.clear()
      active = true
    },
    stop: () => {
      active = false
      return new Map(seen)
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Running the scanners

/** Runs a scanner (never blocking this process: the app answers it from here), output to a file. */
async function runTool(command: string, args: string[], logFile: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const fd = fs.openSync(logFile, 'w')
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, TERM: 'dumb', PYTHONUNBUFFERED: '1' } })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', (c) => resolve(c)))
    clearTimeout(timer)
    return { code, output: fs.readFileSync(logFile, 'utf8') }
  } finally {
    fs.closeSync(fd)
  }
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n')
}

/**
 * Debian's wapiti 3.0.4 compiles every -x pattern to `...\Z(?ms)`, which Python 3.11 refuses ("global flags not at
 * the start of the expression"), so any -x crashes it. This starts wapiti's own entry point with that one function
 * corrected (flags first), and only when it is broken.
 */
const WAPITI_RUNNER = [
  'import re, sys',
  'import wapitiCore.net.crawler as crawler',
  'try:',
  "    crawler.wildcard_translate('x*')",
  'except re.error:',
  "    crawler.wildcard_translate = lambda pattern: re.compile('(?ms)' + ''.join('.*' if c == '*' else re.escape(c) for c in pattern) + r'\\Z')",
  'from wapitiCore.main.wapiti import wapiti_main',
  "sys.argv[0] = 'wapiti'",
  'sys.exit(wapiti_main())',
].join('\n')

interface WapitiEntry {
  method?: string
  path?: string
  info?: string
  parameter?: string
}

interface Finding {
  kind: string
  category: string
  info: string
  where: string
}

async function wapiti(
  t: Test,
  server: Server,
  options: { cookie: string; start: string[]; exclude?: string[]; headers?: string[] },
): Promise<Finding[]> {
  const dir = tempDir(t, 'vm-wapiti-')
  const report = path.join(dir, 'report.json')
  const python = /^#!\s*(\S+)/.exec(fs.readFileSync(WAPITI, 'utf8'))?.[1] ?? '/usr/bin/python3'
  // wapiti loads every module, and its wapp module (not used here) downloads a fingerprint database from GitHub
  // when it finds none: an empty one keeps the scan offline.
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config', 'apps.json'), '{}')
  const args = [
    '-c', WAPITI_RUNNER,
    '-u', `${server.url}/`,
    '--scope', 'folder',
    ...options.start.flatMap((start) => ['-s', server.url + start]),
    '-m', WAPITI_MODULES.join(','),
    '-H', `Cookie: ${options.cookie}`,
    ...(options.headers ?? []).flatMap((header) => ['-H', header]),
    ...(options.exclude ?? []).flatMap((exclude) => ['-x', server.url + exclude]),
    '--flush-session',
    '--store-session', path.join(dir, 'session'),
    '--store-config', path.join(dir, 'config'),
    '--max-scan-time', '150',
    '--max-attack-time', '90',
    '--timeout', '10',
    '--no-bugreport',
    '-v', '1',
    '-f', 'json',
    '-o', report,
  ]
  const started = Date.now()
  const run = await runTool(python, args, path.join(dir, 'wapiti.log'), 8 * 60 * 1000)
  t.comment(`wapiti ran ${Math.round((Date.now() - started) / 1000)} s`)
  if (run.code !== 0 || !fs.existsSync(report)) throw new Error(`wapiti failed (exit ${run.code}):\n${tail(run.output)}`)
  const parsed = JSON.parse(fs.readFileSync(report, 'utf8')) as Record<string, unknown>
  t.equal((parsed.infos as { target?: string } | undefined)?.target, `${server.url}/`, 'the report is about this app')
  const findings: Finding[] = []
  for (const kind of ['vulnerabilities', 'anomalies', 'additionals']) {
    t.type(parsed[kind], 'object', `the report has its ${kind} section`)
    for (const [category, entries] of Object.entries((parsed[kind] ?? {}) as Record<string, WapitiEntry[]>)) {
      for (const entry of entries) {
        findings.push({ kind, category, info: entry.info ?? '', where: `${entry.method ?? ''} ${entry.path ?? ''}${entry.parameter ? ` (${entry.parameter})` : ''}` })
      }
    }
  }
  return findings
}

/** Fails on every finding not in the allowlist; notes the allowlisted ones. */
function checkFindings(t: Test, findings: Finding[], allowed: Allowed[]): void {
  const unexpected = findings.filter((f) => !allowed.some((a) => a.category === f.category && a.info === f.info))
  t.same(unexpected.map((f) => `${f.kind} / ${f.category}: ${f.info} at ${f.where}`), [], 'no wapiti finding beyond the documented false positives')
  for (const f of findings.filter((f) => !unexpected.includes(f))) t.comment(`allowlisted false positive: ${f.category}: ${f.info}`)
}

interface SqlmapTarget {
  /** Path to attack; a `*` marks an injection point in the path. */
  path: string
  data: string
  /** A page whose form holds the session's CSRF token. */
  csrfPage: string
  /** Parameters to test (none: the `*` in the path). */
  params?: string[]
  /** The route that must have answered sqlmap's requests. */
  route: string
  /** A statement that must have received payloads as bound values (where input reaches SQL after validation). */
  sql?: RegExp
  extra?: string[]
}

async function sqlmap(
  t: Test,
  server: Server,
  spy: ReturnType<typeof sqlSpy>,
  target: SqlmapTarget,
  options: { cookie?: string; level: number; risk: number },
): Promise<void> {
  const dir = tempDir(t, 'vm-sqlmap-')
  const args = [
    '-u', server.url + target.path,
    '--data', target.data,
    '--csrf-token', '_csrf',
    '--csrf-url', server.url + target.csrfPage,
    ...(target.params ? ['-p', target.params.join(',')] : []),
    ...(options.cookie ? ['--cookie', options.cookie] : []),
    '--batch',
    `--level=${options.level}`,
    `--risk=${options.risk}`,
    // The app's answers to bad input (401 wrong sign-in, 404, 409, 422 invalid form) are pages to compare, not errors.
    '--ignore-code=401,404,409,422',
    '--flush-session',
    '--output-dir', dir,
    '--disable-coloring',
    // Longer than sqlmap's heavy SQLite queries take here, so a time-based injection is seen, not timed out.
    '--timeout=30',
    '--retries=1',
    // A successful form answers 303: compare that answer, not the list page behind it (which grows with every
    // row sqlmap adds, and would only slow it down).
    '--answers=want to follow=N',
    ...(target.extra ?? []),
  ]
  const before = server.served.length
  spy.start()
  const started = Date.now()
  const run = await runTool(SQLMAP, args, path.join(dir, 'sqlmap.log'), 6 * 60 * 1000)
  const statements = spy.stop()
  const served = server.served.slice(before)
  t.comment(`sqlmap on ${target.path}: ${Math.round((Date.now() - started) / 1000)} s, ${served.length} requests`)
  const output = run.output

  // What sqlmap says.
  t.notMatch(output, /\[CRITICAL\]/, 'sqlmap ran to the end', { tail: tail(output) })
  t.notMatch(output, /identified the following injection point/, 'no injection point identified', { tail: tail(output) })
  t.notMatch(output, /parameter '[^']+' (?:is|seems to be|appears to be) '[^']+' injectable/i, 'no parameter reported injectable')
  t.notMatch(output, /is vulnerable\./, 'nothing reported vulnerable')
  const names = target.params?.map((p) => `(?:POST|GET) parameter '${p}'`) ?? ["URI parameter '#1\\*'"]
  for (const name of names) t.match(output, new RegExp(`${name} does not seem to be injectable`), `sqlmap tested ${name.replace(/\\/g, '')} and found it not injectable`)
  t.match(output, /all tested parameters do not appear to be injectable/, 'sqlmap: all tested parameters do not appear to be injectable', { tail: tail(output) })
  const results = fs.readdirSync(dir).filter((f) => /^results-.*\.csv$/.test(f))
  for (const file of results) t.equal(fs.readFileSync(path.join(dir, file), 'utf8').trim().split('\n').length, 1, 'its results file lists no injection point')

  // That it really tested the handler: answered by the route, not refused on CSRF, and signed in when it should be.
  const [method, route] = target.route.split(' ')
  const atRoute = served.filter((s) => s.method === method && s.route === route)
  const refused = atRoute.filter((s) => s.status === 403 || s.status === 415)
  t.ok(atRoute.length >= 100, `${target.route} answered ${atRoute.length} of sqlmap's requests (at least 100)`)
  t.equal(refused.length, 0, 'none of them was refused on its CSRF token or content type')
  t.same(served.filter((s) => s.status >= 500).map((s) => `${s.method} ${s.route} ${s.status}`), [], 'no payload caused a server error')
  if (options.cookie) {
    t.same(signedOut(served), [], 'every request was signed in (the session stayed alive)')
  }
  if (target.sql) {
    const bound = [...statements].filter(([source]) => target.sql!.test(source)).reduce((sum, [, n]) => sum + n, 0)
    t.ok(bound >= 20, `payloads reached SQLite as bound values of ${target.sql} (${bound} statements)`)
  }
}

// ---------------------------------------------------------------------------------------------------------------

t.before(() => {
  for (const tool of [WAPITI, SQLMAP]) if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: ${TOOL_HINT}`)
})

t.test('wapiti, signed in as the administrator, default configuration (plain http)', async (t) => {
  const server = await startApp(t)
  const { admin, ids } = await prepareInstallation(server)
  const before = server.served.length
  const findings = await wapiti(t, server, {
    cookie: admin.cookieHeader,
    start: [
      '/follow-ups',
      '/settings/users',
      `/settings/users/${ids.bob}`,
      CONFIGURE,
      // With a provider configured, the app registrations are no longer linked from the configure page.
      '/settings/video-meetings/clients/zoom',
      '/settings/video-meetings/clients/teams',
      '/settings/video-meetings/users',
      '/settings/follow-up-types',
      '/preferences/general',
    ],
    exclude: [
      // Signing out would end the session the whole scan runs in.
      '/sign-out',
      // The admin's own password (which also ends their sessions), role and deactivation.
      `/settings/users/${ids.admin}/*`,
      // Keeps the organization's provider, so the provider settings form stays there to be attacked.
      '/settings/video-meetings/disconnect',
      // Keeps one follow-up, so its page and edit form stay there to be attacked (the spare one may go).
      `/follow-ups/${ids.keptFollowUp}/delete`,
    ],
  })
  const served = server.served.slice(before)
  checkFindings(t, findings, WAPITI_FALSE_POSITIVES)

  // The crawl ran signed in, on the admin pages, and its attacks reached the handlers.
  t.ok(served.length >= 500, `wapiti made ${served.length} requests`)
  t.same(signedOut(served), [], 'every request was signed in: the session stayed alive')
  const pages = new Set(served.filter((s) => s.method === 'GET' && s.status === 200 && s.signedIn).map((s) => s.route))
  for (const page of [
    '/follow-ups',
    '/follow-ups/:id',
    '/follow-ups/:id/edit',
    '/preferences/general',
    '/preferences/email',
    '/settings/users',
    '/settings/users/:id',
    '/settings/video-meetings',
    CONFIGURE,
    '/settings/video-meetings/clients/:provider',
    '/settings/video-meetings/users',
    '/settings/follow-up-types',
    '/settings/email',
    '/settings/audit-log',
  ]) {
    t.ok(pages.has(page), `the crawl reached ${page} signed in`)
  }
  const posts = served.filter((s) => s.method === 'POST')
  const handled = posts.filter((s) => s.signedIn && s.status !== 403 && s.status !== 415)
  t.ok(handled.length >= 200, `${handled.length} attacking POSTs were answered by the route handlers`)
  t.ok(new Set(handled.map((s) => s.route)).size >= 10, 'on at least 10 different forms')
  t.ok(posts.some((s) => s.status === 403), 'the csrf module tried forms without a valid token (and was refused)')
  t.same(served.filter((s) => s.status >= 500).map((s) => `${s.method} ${s.route} ${s.status}`), [], 'no request caused a server error')
  t.notOk(served.some((s) => s.route === '/sign-out'), 'the sign-out URL was left alone')

  const still = await admin.request('/settings/users')
  t.equal(still.status, 200, 'the administrator is still signed in after the scan')
})

t.test('wapiti, anonymous, production configuration (https at a proxy): the sign-in form and the header findings', async (t) => {
  const proxy = { 'x-forwarded-proto': 'https' }
  const server = await startApp(t, { https: true })
  const admin = new HttpClient(server.url, proxy)
  expectStatus(await admin.submit('/setup', '/setup', ADMIN), 303, 'setup')
  // An anonymous session with its CSRF token. wapiti speaks plain http to the app, so its cookie jar never sends
  // a Secure cookie back: the cookie goes in as a header, as the proxy would pass it on.
  const visitor = new HttpClient(server.url, proxy)
  expectStatus(await visitor.request('/sign-in'), 200, 'the sign-in page')
  t.ok(visitor.cookies.has('__Host-vm_session'), 'the anonymous session cookie is __Host- prefixed')
  signInLimitsOff(t)
  const before = server.served.length
  const findings = await wapiti(t, server, {
    cookie: visitor.cookieHeader,
    start: ['/sign-in', '/sign-in?next=%2Ffollow-ups'],
    headers: ['X-Forwarded-Proto: https'],
  })
  const served = server.served.slice(before)
  checkFindings(t, findings, WAPITI_FALSE_POSITIVES.filter((a) => !a.plainHttpOnly))
  const signIns = served.filter((s) => s.method === 'POST' && s.route === '/sign-in')
  t.ok(signIns.filter((s) => s.status === 401).length >= 20, `the sign-in handler answered ${signIns.filter((s) => s.status === 401).length} attacks`)
  t.ok(signIns.some((s) => s.status === 403), 'the csrf module tried the form without a valid token (and was refused)')
  t.same(served.filter((s) => s.status >= 500).map((s) => `${s.method} ${s.route} ${s.status}`), [], 'no request caused a server error')
})

t.test('sqlmap on the sign-in form and the admin forms', async (t) => {
  const server = await startApp(t)
  const { admin, ids } = await prepareInstallation(server)
  const spy = sqlSpy(t, server.app.db)

  const signInForm = {
    path: '/sign-in',
    // An existing account (with a wrong password): AND-based payloads are only evaluated for a row that matches.
    data: '_csrf=x&next=%2Ffollow-ups&email=bob%40example.com&password=not+the+password',
    csrfPage: '/sign-in',
    route: 'POST /sign-in',
  }
  await t.test('POST /sign-in, email (anonymous session; the one input that reaches SQL before anyone signs in)', async (t) => {
    signInLimitsOff(t)
    await sqlmap(t, server, spy, { ...signInForm, params: ['email'], sql: /FROM users WHERE email = \?/ }, { level: 3, risk: 2 })
  })
  await t.test('POST /sign-in, password and next', async (t) => {
    signInLimitsOff(t)
    await sqlmap(t, server, spy, { ...signInForm, params: ['password', 'next'] }, { level: 2, risk: 1 })
  })

  const signedIn = { cookie: admin.cookieHeader, level: 2, risk: 1 }
  await t.test('POST /settings/users (add a user)', (t) =>
    sqlmap(
      t,
      server,
      spy,
      {
        path: '/settings/users',
        data: '_csrf=x&name=Scan+Target&email=scan-target%40example.com&password=a+long+enough+password&role=user&language=en',
        csrfPage: '/settings/users',
        params: ['name', 'email'],
        route: 'POST /settings/users',
        sql: /INSERT INTO users/,
        // A fresh email for every request that does not inject into it, so payloads in the name are inserted
        // instead of all stopping at "email already taken".
        extra: ['--eval', "import random; email = email if email != 'scan-target@example.com' else 'scan-%d@example.com' % random.randrange(10**12)"],
      },
      signedIn,
    ),
  )
  // Renaming first: both answer an invalid form with the whole list, which the other run makes long.
  await t.test('POST /settings/follow-up-types/:id (rename a type)', (t) =>
    sqlmap(
      t,
      server,
      spy,
      {
        path: `/settings/follow-up-types/${ids.type}`,
        data: '_csrf=x&action=save&name=Check-in&videoDefault=true',
        csrfPage: '/settings/follow-up-types',
        params: ['name'],
        route: 'POST /settings/follow-up-types/:id',
        sql: /UPDATE follow_up_types/,
      },
      signedIn,
    ),
  )
  await t.test('POST /settings/follow-up-types (add a type)', (t) =>
    sqlmap(
      t,
      server,
      spy,
      { path: '/settings/follow-up-types', data: '_csrf=x&name=T&videoDefault=true', csrfPage: '/settings/follow-up-types', params: ['name'], route: 'POST /settings/follow-up-types', sql: /INSERT INTO follow_up_types/ },
      signedIn,
    ),
  )
  await t.test('POST /settings/video-meetings/clients/zoom (app registration)', (t) =>
    sqlmap(
      t,
      server,
      spy,
      {
        path: '/settings/video-meetings/clients/zoom',
        data: '_csrf=x&clientId=scan-client&clientSecret=scan+client+secret',
        csrfPage: '/settings/video-meetings/clients/zoom',
        params: ['clientId'],
        route: 'POST /settings/video-meetings/clients/:provider',
        sql: /provider_clients/,
      },
      signedIn,
    ),
  )
  await t.test('POST /settings/video-meetings/configure/settings (provider settings)', (t) =>
    sqlmap(
      t,
      server,
      spy,
      { path: `${CONFIGURE}/settings`, data: '_csrf=x&passcode=abc12345&waitingRoom=true', csrfPage: CONFIGURE, params: ['passcode'], route: `POST ${CONFIGURE}/settings` },
      signedIn,
    ),
  )
  await t.test('POST /settings/video-meetings/users/:id/remove (Manage users)', (t) =>
    sqlmap(
      t,
      server,
      spy,
      { path: `/settings/video-meetings/users/${ids.connection}*/remove`, data: '_csrf=x', csrfPage: '/settings/video-meetings/users', route: 'POST /settings/video-meetings/users/:id/remove' },
      signedIn,
    ),
  )
  t.equal((await admin.request('/settings/users')).status, 200, 'the administrator is still signed in')
})
