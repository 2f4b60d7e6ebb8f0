/**
 * `npm run bench`: the production build on a fresh data directory with realistic data, measured with
 * autocannon on loopback against a bare Fastify server serving the same bytes (the limit). Prints one table,
 * writes bench/results/latest.json, and says which targets of issue 7 are met. It is a report: exit 0.
 *
 * Options (environment): BENCH_DURATION (seconds per run, 10), BENCH_WARMUP (seconds, 2), BENCH_CONNECTIONS
 * (50), BENCH_USERS (1000), BENCH_FOLLOW_UPS (200 per user), BENCH_LOG_LEVEL (the server's LOG_LEVEL, info).
 * `npm run bench -- --profile`: runs the server under `node --cpu-prof` and prints where each run spent its
 * CPU (figures from a profiled run are lower than usual; the profile goes to bench/results/).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon, { type Request } from 'autocannon'
import Database from 'better-sqlite3'
import { seed, type SeededUser } from './seed.js'
import { summarizeProfile, type Window } from './profile.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const resultsDir = path.join(here, 'results')
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback)
const DURATION = num('BENCH_DURATION', 10)
const WARMUP = num('BENCH_WARMUP', 2)
const CONNECTIONS = num('BENCH_CONNECTIONS', 50)
const USERS = num('BENCH_USERS', 1000)
const FOLLOW_UPS = num('BENCH_FOLLOW_UPS', 200)
const ADMINS = 10
const PROFILE = process.argv.includes('--profile')
/** BENCH_ONLY=page,list: only these runs (besides the limit), e.g. while profiling one page. */
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null
const wanted = (name: string) => !ONLY || name === 'limit' || name === 'floor' || ONLY.has(name)
const SESSION_TTL_SECONDS = 8 * 3600
/** What Chrome sends: every page run asks for compression like a browser, and the limit serves those bytes. */
const BROWSER_ENCODINGS = 'gzip, deflate, br, zstd'

/** Issue 7's targets. */
const TARGETS = {
  pageRatio: 0.6,
  panelRatio: 0.75,
  listRatio: 0.4,
  p99OverP50: 5,
  peakRssMb: 150,
  startupMs: 500,
  firstLoadKb: 40,
  ownJsKb: 2,
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** One request, no keep-alive, no decompression: `body` is what went over the wire. */
function request(port: number, urlPath: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
}

/** VmHWM (peak resident set) and VmRSS of a process, in MB, from /proc. */
function memory(pid: number): { peakMb: number; rssMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 }
  } catch {
    return null
  }
}

/** CPU time a process has used so far (user + system), in milliseconds, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
  } catch {
    return NaN
  }
}
const CLOCK_TICKS = 100

/** The machine's CPU time so far, busy and in all, in milliseconds (all cores, from /proc/stat). */
function machineCpu(): { busyMs: number; totalMs: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0)
  const idle = fields[3]! + (fields[4] ?? 0)
  return { busyMs: ((total - idle) * 1000) / CLOCK_TICKS, totalMs: (total * 1000) / CLOCK_TICKS }
}

/** The share of the machine's CPU time used by anything during one second. */
async function machineBusy(): Promise<number> {
  const sample = () => {
    const m = machineCpu()
    return { idle: m.totalMs - m.busyMs, total: m.totalMs }
  }
  const a = sample()
  await sleep(1000)
  const b = sample()
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total)
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits

/** A Markdown table (first column left-aligned, the others right-aligned), as pasted into the README. */
function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

// ---------------------------------------------------------------------------------------------------------
// Load

interface LoadResult {
  name: string
  label: string
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  /** CPU time the serving process used per request (user + system): robust to other load on the machine. */
  serverCpuUsPerRequest: number
  /** Responses with another status than expected, and connection errors/timeouts. */
  unexpected: number
  statuses: Record<string, number>
  window: Window
  /** The app server's resident set after the run. */
  serverRssMb?: number
  /** Share of the machine's CPU used by other processes (not ours) during the run, warm-up included. */
  otherCpuShare?: number
}

/**
 * Warm-up (not counted), then DURATION seconds at CONNECTIONS connections. Latencies are taken from every
 * response (autocannon's own histogram keeps whole milliseconds and only 2xx).
 */
async function load(name: string, label: string, port: number, requests: Request[], expected: number, serverPid: number): Promise<LoadResult> {
  const base = { url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, requests, timeout: 30 }
  if (WARMUP > 0) await autocannon({ ...base, duration: WARMUP })
  const latencies = new Float64Array(4_000_000)
  let count = 0
  const statuses: Record<string, number> = {}
  const startedUs = Number(process.hrtime.bigint() / 1000n)
  const cpuBefore = cpuMs(serverPid)
  const instance = autocannon({ ...base, duration: DURATION })
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (count < latencies.length) latencies[count] = ms
    count++
    statuses[status] = (statuses[status] ?? 0) + 1
  })
  const result = await instance
  const endedUs = Number(process.hrtime.bigint() / 1000n)
  const cpuUsed = cpuMs(serverPid) - cpuBefore
  const sorted = latencies.subarray(0, Math.min(count, latencies.length)).sort()
  const unexpected = Object.entries(statuses).reduce((sum, [status, n]) => (Number(status) === expected ? sum : sum + n), 0) + result.errors
  return {
    name,
    label,
    requestsPerSecond: count / result.duration,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    requests: count,
    serverCpuUsPerRequest: (cpuUsed * 1000) / count,
    unexpected,
    statuses,
    window: { name: label, startUs: startedUs, endUs: endedUs },
  }
}

const shuffled = <T>(items: T[]): T[] => {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1)
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

const get = (urlPath: string, users: SeededUser[], extra: Record<string, string> = {}): Request[] =>
  shuffled(users).map((u) => ({ method: 'GET', path: urlPath, headers: { cookie: u.cookie, 'accept-encoding': BROWSER_ENCODINGS, ...extra } }))

/** A new follow-up with a video meeting, next week, as the form sends it. */
function saveRequests(users: SeededUser[]): Request[] {
  const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10)
  return shuffled(users).map((u, i) => {
    const form = new URLSearchParams({
      _csrf: u.csrf,
      title: `Benchmark follow-up ${i}`,
      typeId: '1',
      start: `${day}T10:00`,
      end: `${day}T10:30`,
      timeZone: 'Europe/Amsterdam',
      location: '',
      description: 'Created by npm run bench.',
      attendees: 'someone@customer.example',
      video: 'true',
      action: 'save',
    })
    return { method: 'POST', path: '/follow-ups', headers: { cookie: u.cookie, 'accept-encoding': BROWSER_ENCODINGS, 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }
  })
}

// ---------------------------------------------------------------------------------------------------------
// First load: what a browser transfers for the Video meetings page (HTML + CSS + JS), compressed

interface FirstLoad {
  files: { url: string; type: string; bytes: number; rawBytes: number; encoding: string }[]
  totalBytes: number
  scripts: string[]
  ownJsBytes: number
  ownJsRawBytes: number
  onlyHtmxAndOwn: boolean
}

async function firstLoad(port: number, user: SeededUser): Promise<FirstLoad> {
  const accept = { 'accept-encoding': 'br, gzip', cookie: user.cookie }
  const page = await request(port, '/preferences/video-meetings', { headers: accept })
  const plain = await request(port, '/preferences/video-meetings', { headers: { cookie: user.cookie } })
  const html = plain.body.toString('utf8')
  const styles = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!)
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]!)
  const files: FirstLoad['files'] = [
    { url: '/preferences/video-meetings', type: 'html', bytes: page.body.length, rawBytes: plain.body.length, encoding: String(page.headers['content-encoding'] ?? 'none') },
  ]
  for (const [url, type] of [...styles.map((u) => [u, 'css'] as const), ...scripts.map((u) => [u, 'js'] as const)]) {
    const compressed = await request(port, url, { headers: accept })
    const raw = await request(port, url)
    files.push({ url, type, bytes: compressed.body.length, rawBytes: raw.body.length, encoding: String(compressed.headers['content-encoding'] ?? 'none') })
  }
  const own = files.filter((f) => f.type === 'js' && !/\/vendor\/htmx(\.min)?\.js$/.test(f.url))
  return {
    files,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    scripts,
    ownJsBytes: own.reduce((sum, f) => sum + f.bytes, 0),
    ownJsRawBytes: own.reduce((sum, f) => sum + f.rawBytes, 0),
    onlyHtmxAndOwn: scripts.every((s) => s.startsWith('/assets/')) && scripts.filter((s) => /\/vendor\//.test(s)).every((s) => /\/vendor\/htmx(\.min)?\.js$/.test(s)),
  }
}

// ---------------------------------------------------------------------------------------------------------

function printProfile(profileDir: string, runs: LoadResult[]): void {
  const profiles = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f))
  const newest = profiles.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0]
  if (!newest) return
  const summary = summarizeProfile(newest, runs.filter((r) => r.name !== 'limit').map((r) => r.window), root)
  const out = path.join(resultsDir, 'profile-summary.txt')
  fs.writeFileSync(out, summary)
  console.log(`\n${summary}\nProfile: ${path.relative(root, newest)} (open in Chrome DevTools → Performance); summary: ${path.relative(root, out)}`)
}

/** The flags between `node` and the script in package.json's start script. */
function startFlags(): string[] {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const match = /\bnode((?:\s+--\S+)*)\s+build\/server\.js/.exec(scripts.start ?? '')
  if (!match) throw new Error('package.json: the start script does not run `node [flags] build/server.js`')
  return match[1]!.trim().split(/\s+/).filter(Boolean)
}

async function main(): Promise<void> {
  const serverEntry = path.join(root, 'build', 'server.js')
  if (!fs.existsSync(serverEntry)) throw new Error('No production build: run `npm run build` first (npm run bench does)')
  fs.mkdirSync(resultsDir, { recursive: true })
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-bench-'))
  const secretKey = crypto.randomBytes(48).toString('base64')
  const children: ChildProcess[] = []
  const cleanup = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  process.on('exit', cleanup)

  try {
    const cpus = os.cpus()
    const machine = `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`
    console.log(`Video Meetings benchmark — ${machine}`)
    // The figures are only worth something on an otherwise idle machine (the load runs on the same cores).
    const busyBefore = await machineBusy()
    if (busyBefore > 0.1) console.log(`  WARNING: the CPUs were ${Math.round(busyBefore * 100)}% busy before the run: other processes are running, the figures will be low and noisy`)
    console.log(`Seeding ${USERS} users × ${FOLLOW_UPS} follow-ups into ${dataDir} …`)
    const seeded = await seed({ dataDir, secretKey, users: USERS, followUpsPerUser: FOLLOW_UPS, sessionTtlSeconds: SESSION_TTL_SECONDS })
    const dbBytes = fs.readdirSync(dataDir).filter((f) => f.endsWith('.db')).reduce((sum, f) => sum + fs.statSync(path.join(dataDir, f)).size, 0)
    console.log(`  ${seeded.users.length} users, ${seeded.followUps} follow-ups, ${round(dbBytes / 2 ** 20)} MB database, in ${round(seeded.ms / 1000)} s`)

    // The server: the production build, as `npm start` runs it.
    const port = await freePort()
    const profileDir = path.join(resultsDir, 'profiles')
    // The server runs with the Node flags `npm start` uses (read from package.json, so the two never differ);
    // BENCH_NODE_FLAGS replaces them, for experiments.
    let serverEnv: NodeJS.ProcessEnv = {}
    const nodeArgs = [...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...(process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? startFlags())]
    const logFile = path.join(dataDir, 'server.log')
    const log = fs.openSync(logFile, 'w')
    const spawnedAt = performance.now()
    const server = spawn(process.execPath, [...nodeArgs, serverEntry], {
      cwd: root,
      stdio: ['ignore', log, log],
      env: (serverEnv = {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        SECRET_KEY: secretKey,
        SANDBOX: '1',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
        SESSION_TTL_SECONDS: String(SESSION_TTL_SECONDS),
        // For trying changed views/ or public/ without touching the checkout (see src/paths.ts).
        ...(process.env.VIDEO_MEETINGS_ROOT && { VIDEO_MEETINGS_ROOT: process.env.VIDEO_MEETINGS_ROOT }),
      }),
    })
    children.push(server)
    let startupMs = NaN
    for (;;) {
      if (server.exitCode !== null) throw new Error(`The server exited (${server.exitCode}); its log:\n${fs.readFileSync(logFile, 'utf8')}`)
      try {
        const ready = await request(port, '/readyz')
        if (ready.status === 200) {
          startupMs = performance.now() - spawnedAt
          break
        }
      } catch {
        // not listening yet
      }
      if (performance.now() - spawnedAt > 30_000) throw new Error('The server was not ready within 30 s')
      await sleep(2)
    }
    const pid = server.pid!
    const atReady = memory(pid)
    let peakMb = atReady?.peakMb ?? NaN
    const poll = setInterval(() => {
      const m = memory(pid)
      if (m) peakMb = Math.max(peakMb, m.peakMb)
    }, 250)
    console.log(`  server ready in ${Math.round(startupMs)} ms (RSS ${round(atReady?.rssMb ?? NaN)} MB)`)

    const users = seeded.users.filter((u) => u.role === 'user')
    const admins = seeded.users.filter((u) => u.role === 'admin')
    const someone = users[0]!

    // Sessions seeded into the store must work exactly like one made by the sign-in form: check both.
    const signInPage = await request(port, '/sign-in')
    const anonymous = String(signInPage.headers['set-cookie']?.[0] ?? '').split(';', 1)[0]!
    const csrf = /name="_csrf" value="([^"]+)"/.exec(signInPage.body.toString())?.[1] ?? ''
    const signIn = await request(port, '/sign-in', {
      method: 'POST',
      headers: { cookie: anonymous, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, email: someone.email, password: seeded.password, next: '/preferences/video-meetings' }).toString(),
    })
    const signedIn = String(signIn.headers['set-cookie']?.[0] ?? '').split(';', 1)[0]!
    const viaForm = await request(port, '/preferences/video-meetings', { headers: { cookie: signedIn } })
    const viaSeed = await request(port, '/preferences/video-meetings', { headers: { cookie: someone.cookie } })
    const panel = await request(port, '/settings/video-meetings', { headers: { cookie: admins[0]!.cookie, 'hx-request': 'true' } })
    const list = await request(port, '/follow-ups', { headers: { cookie: someone.cookie } })
    for (const [what, answer, needle] of [
      ['sign-in form', signIn, ''],
      ['page after sign-in', viaForm, 'Sandbox'],
      ['page with a seeded session', viaSeed, 'Sandbox'],
      ['panel partial', panel, 'Sandbox'],
      ['follow-ups list', list, 'follow-ups/'],
    ] as const) {
      const ok = what === 'sign-in form' ? answer.status === 303 : answer.status === 200 && answer.body.toString().includes(needle)
      if (!ok) throw new Error(`Check failed: ${what} answered ${answer.status}\n${answer.body.toString().slice(0, 500)}`)
    }
    if (/<html/i.test(panel.body.toString())) throw new Error('The panel partial answered a whole page')
    const listRows = (list.body.toString().match(/href="\/follow-ups\/\d+"/g) ?? []).length
    console.log(`  checks passed: sign-in form, seeded sessions, panel partial, follow-ups list (${listRows} links to follow-ups)`)

    // The limit: the same bytes as the page (as a browser gets them), from a bare Fastify route in its own process.
    const asBrowser = await request(port, '/preferences/video-meetings', { headers: { cookie: someone.cookie, 'accept-encoding': BROWSER_ENCODINGS } })
    const pageFile = path.join(dataDir, 'video-meetings.html')
    fs.writeFileSync(pageFile, asBrowser.body)
    const pageEncoding = asBrowser.headers['content-encoding']
    const limitPort = await freePort()
    const limit = fork(path.join(here, 'limit-server.ts'), [pageFile, String(limitPort), ...(pageEncoding ? [pageEncoding] : [])], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    children.push(limit)
    await new Promise<void>((resolve, reject) => {
      limit.once('message', () => resolve())
      limit.once('exit', (code) => reject(new Error(`The limit server exited (${code})`)))
    })

    // The floor: the same bytes behind the app's session and request-log line, from memory (bench/floor-server.ts).
    const floorPort = await freePort()
    const floorLog = fs.openSync(path.join(dataDir, 'floor.log'), 'w')
    const floor = fork(path.join(here, 'floor-server.ts'), [pageFile, String(floorPort), ...(pageEncoding ? [pageEncoding] : [])], {
      cwd: root,
      env: { ...serverEnv, PORT: String(floorPort) },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', floorLog, floorLog, 'ipc'],
    })
    children.push(floor)
    await new Promise<void>((resolve, reject) => {
      floor.once('message', () => resolve())
      floor.once('exit', (code) => reject(new Error(`The floor server exited (${code}); see floor.log`)))
    })

    const transfer = await firstLoad(port, someone)
    const listPlain = list.body.length
    const listCompressed = await request(port, '/follow-ups', { headers: { cookie: someone.cookie, 'accept-encoding': BROWSER_ENCODINGS } })
    const listTransfer = { bytes: listCompressed.body.length, rawBytes: listPlain, encoding: String(listCompressed.headers['content-encoding'] ?? 'none') }

    const runs: LoadResult[] = []
    /** CPU time of everything we run: the server, the limit server and this process (autocannon). */
    const ourCpuMs = () => cpuMs(pid) + cpuMs(limit.pid!) + cpuMs(floor.pid!) + (process.cpuUsage().user + process.cpuUsage().system) / 1000
    const step = async (name: string, run: () => Promise<LoadResult>) => {
      if (!wanted(name)) return
      const machineBefore = machineCpu()
      const oursBefore = ourCpuMs()
      const result = await run()
      const machineAfter = machineCpu()
      const others = machineAfter.busyMs - machineBefore.busyMs - (ourCpuMs() - oursBefore)
      result.otherCpuShare = Math.max(0, others / (machineAfter.totalMs - machineBefore.totalMs))
      const m = memory(pid)
      if (m) peakMb = Math.max(peakMb, m.peakMb)
      result.serverRssMb = m?.rssMb ?? NaN
      runs.push(result)
      console.log(`  ${result.label.padEnd(40)} ${String(Math.round(result.requestsPerSecond)).padStart(6)} req/s  p50 ${round(result.p50Ms, 2)} ms  p99 ${round(result.p99Ms, 2)} ms  ${Math.round(result.serverCpuUsPerRequest)} µs CPU/req${(result.otherCpuShare ?? 0) > 0.05 ? `  (other processes used ${Math.round(result.otherCpuShare! * 100)}% of the CPU)` : ''}${result.unexpected ? `  (${result.unexpected} unexpected: ${JSON.stringify(result.statuses)})` : ''}`)
    }
    console.log(`Load: ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s each, autocannon on loopback`)
    await step('limit', () => load('limit', 'Limit (bare Fastify, same bytes)', limitPort, [{ method: 'GET', path: '/', headers: { 'accept-encoding': BROWSER_ENCODINGS } }], 200, limit.pid!))
    await step('floor', () => load('floor', 'Floor (same bytes + session + log line)', floorPort, get('/', users), 200, floor.pid!))
    await step('page', () => load('page', 'Preferences → Video meetings page', port, get('/preferences/video-meetings', users), 200, pid))
    await step('panel', () => load('panel', 'Settings → Video meetings panel (htmx)', port, get('/settings/video-meetings', admins, { 'hx-request': 'true' }), 200, pid))
    await step('list', () => load('list', 'Follow-ups list (first 50)', port, get('/follow-ups', users), 200, pid))

    const db = new Database(path.join(dataDir, 'video-meetings.db'), { readonly: true, fileMustExist: true })
    const lastId = db.prepare('SELECT COALESCE(MAX(id), 0) FROM follow_ups').pluck().get() as number
    await step('save', () => load('save', 'Save a follow-up with video (Sandbox)', port, saveRequests(users), 303, pid))
    await sleep(500)
    const meetings = db
      .prepare("SELECT m.state AS state, COUNT(*) AS n FROM follow_ups f JOIN meetings m ON m.follow_up_id = f.id WHERE f.id > ? GROUP BY m.state")
      .all(lastId) as { state: string; n: number }[]
    db.close()
    const saved = meetings.reduce((sum, m) => sum + m.n, 0)
    const ready = meetings.find((m) => m.state === 'ready')?.n ?? 0

    clearInterval(poll)
    const final = memory(pid)
    if (final) peakMb = Math.max(peakMb, final.peakMb)
    limit.kill('SIGTERM')
    floor.kill('SIGTERM')
    server.kill('SIGTERM')
    await Promise.all([exited(limit), exited(floor), exited(server)])

    if (ONLY) {
      if (PROFILE) printProfile(profileDir, runs)
      console.log(`Partial run (BENCH_ONLY): no table, targets or latest.json. Peak RSS ${round(peakMb)} MB, start-up ${Math.round(startupMs)} ms.`)
      return
    }

    // ---- Report
    const byName = new Map(runs.map((r) => [r.name, r]))
    const limitRps = byName.get('limit')!.requestsPerSecond
    const ratio = (name: string) => byName.get(name)!.requestsPerSecond / limitRps
    const tail = (name: string) => byName.get(name)!.p99Ms / byName.get(name)!.p50Ms
    const targets = [
      { target: `Video meetings page ≥ ${TARGETS.pageRatio * 100}% of the limit`, value: `${round(ratio('page') * 100)}%`, met: ratio('page') >= TARGETS.pageRatio },
      { target: `Panel partial ≥ ${TARGETS.panelRatio * 100}% of the limit`, value: `${round(ratio('panel') * 100)}%`, met: ratio('panel') >= TARGETS.panelRatio },
      { target: `Follow-ups list ≥ ${TARGETS.listRatio * 100}% of the limit`, value: `${round(ratio('list') * 100)}%`, met: ratio('list') >= TARGETS.listRatio },
      ...['page', 'panel', 'list', 'save'].map((name) => ({
        target: `p99 ≤ ${TARGETS.p99OverP50}× p50: ${byName.get(name)!.label}`,
        value: `${round(tail(name), 2)}×`,
        met: tail(name) <= TARGETS.p99OverP50,
      })),
      { target: `Peak RSS ≤ ${TARGETS.peakRssMb} MB`, value: `${round(peakMb)} MB`, met: peakMb <= TARGETS.peakRssMb },
      { target: `Start-up to first /readyz 200 ≤ ${TARGETS.startupMs} ms`, value: `${Math.round(startupMs)} ms`, met: startupMs <= TARGETS.startupMs },
      { target: `First load ≤ ${TARGETS.firstLoadKb} KB compressed (HTML+CSS+JS)`, value: `${round(transfer.totalBytes / 1024)} KB`, met: transfer.totalBytes <= TARGETS.firstLoadKb * 1024 },
      {
        target: `Only htmx + ≤ ${TARGETS.ownJsKb} KB of our own JS (transferred)`,
        value: `${round(transfer.ownJsBytes / 1024, 2)} KB (${transfer.ownJsRawBytes} B uncompressed)`,
        met: transfer.onlyHtmxAndOwn && transfer.ownJsBytes <= TARGETS.ownJsKb * 1024,
      },
      { target: 'Every save answered 303 and got its meeting', value: `${ready}/${saved} ready`, met: byName.get('save')!.unexpected === 0 && ready === saved },
    ]

    const date = new Date().toISOString()
    const rows = runs.map((r) => [
      r.label,
      String(Math.round(r.requestsPerSecond)),
      r.p50Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      `${round(r.p99Ms / r.p50Ms, 1)}×`,
      r.name === 'limit' ? '100%' : `${round((r.requestsPerSecond / limitRps) * 100)}%`,
      String(Math.round(r.serverCpuUsPerRequest)),
    ])
    const table = markdownTable(['Run', 'req/s', 'p50 ms', 'p99 ms', 'p99/p50', 'of limit', 'CPU µs/req'], rows)
    const figures = markdownTable(
      ['Figure', 'Value'],
      [
        ['Floor (session + log line, no work) of the limit: the ceiling of any signed-in page', `${round(ratio('floor') * 100)}%`],
        ...['page', 'panel', 'list'].map((name) => [`${byName.get(name)!.label} of the floor`, `${round((ratio(name) / ratio('floor')) * 100)}%`]),
        ['Start-up to first /readyz 200', `${Math.round(startupMs)} ms`],
        ['Peak RSS (VmHWM) during the run', `${round(peakMb)} MB`],
        ['First load, compressed (HTML+CSS+JS)', `${round(transfer.totalBytes / 1024)} KB`],
        ['Our own JS (compressed / uncompressed)', `${transfer.ownJsBytes} B / ${transfer.ownJsRawBytes} B`],
      ],
    )
    console.log(`\n${date} — ${machine}${PROFILE ? ' — PROFILED (slower than usual)' : ''}`)
    console.log(`${USERS} users × ${FOLLOW_UPS} follow-ups; ${CONNECTIONS} connections; ${DURATION} s per run after ${WARMUP} s warm-up\n`)
    console.log(`${table}\n\n${figures}`)
    console.log('\nFirst load of the Video meetings page (Accept-Encoding: br, gzip):')
    for (const f of transfer.files) console.log(`  ${f.type.padEnd(4)} ${String(f.bytes).padStart(6)} B (${f.encoding}; ${f.rawBytes} B uncompressed)  ${f.url}`)
    console.log(`  (the follow-ups list: ${listTransfer.bytes} B ${listTransfer.encoding}, ${listTransfer.rawBytes} B uncompressed)`)
    console.log('\nTargets (issue 7):')
    for (const t of targets) console.log(`  ${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.value}`)

    const results = {
      date,
      machine,
      cpuBusyBeforeRun: round(busyBefore, 2),
      profiled: PROFILE,
      settings: { users: USERS, followUpsPerUser: FOLLOW_UPS, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, logLevel: process.env.BENCH_LOG_LEVEL ?? 'info' },
      seed: { users: seeded.users.length, followUps: seeded.followUps, databaseMb: round(dbBytes / 2 ** 20), seconds: round(seeded.ms / 1000) },
      runs: runs.map((r) => ({
        ...r,
        requestsPerSecond: round(r.requestsPerSecond),
        p50Ms: round(r.p50Ms, 3),
        p99Ms: round(r.p99Ms, 3),
        serverCpuUsPerRequest: Math.round(r.serverCpuUsPerRequest),
        ofLimit: round(r.requestsPerSecond / limitRps, 3),
      })),
      startupMs: Math.round(startupMs),
      peakRssMb: round(peakMb),
      firstLoad: transfer,
      followUpsListTransfer: listTransfer,
      saves: { followUps: saved, meetingsReady: ready },
      targets,
    }
    fs.writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`)
    console.log(`\nWritten: ${path.relative(root, path.join(resultsDir, 'latest.json'))}`)

    if (PROFILE) printProfile(profileDir, runs)
  } finally {
    cleanup()
    // BENCH_KEEP=1 keeps the data directory (and the server's log) for a look afterwards.
    if (process.env.BENCH_KEEP) console.log(`Kept: ${dataDir}`)
    else fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
