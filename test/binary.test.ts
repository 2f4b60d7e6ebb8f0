import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { tempDir } from './helpers/app.js'

// A cold build fetches Node 24 and compiles the SQLite addon (minutes on a busy 2-core machine); warm, the
// bundle and the injection take a few seconds.
t.setTimeout(20 * 60 * 1000)

const root = process.cwd()
const BINARY = path.join(root, 'dist', 'video-meetings')

interface Result {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

t.test('the single executable: built, copied alone, serves, adds a user, backs up live, stops on SIGTERM', async (t) => {
  // 1. Build. No skipping: a failed build fails this test.
  const buildStarted = Date.now()
  const build = await run(process.execPath, ['--import', 'tsx', 'scripts/build-binary.ts'])
  const buildSeconds = (Date.now() - buildStarted) / 1000
  t.equal(build.code, 0, 'npm run build:binary succeeds')
  if (build.code !== 0) {
    t.comment(build.stderr.slice(-3000))
    return
  }
  t.comment(`build: ${buildSeconds.toFixed(1)} s (${/compiling better-sqlite3/.test(build.stderr) ? 'cold: addon compiled' : 'warm: addon from cache'})`)

  // 2. Copy it alone into an empty directory: no node_modules, no checkout, no Node.js on PATH.
  const dir = tempDir(t, 'vm-binary-')
  const binDir = path.join(dir, 'bin')
  fs.mkdirSync(binDir)
  const binary = path.join(binDir, 'video-meetings')
  fs.copyFileSync(BINARY, binary)
  fs.chmodSync(binary, 0o755)
  const work = path.join(dir, 'work')
  fs.mkdirSync(work)
  const dataDir = path.join(dir, 'data')
  const port = await freePort()
  const env = { PATH: binDir, HOME: dir, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' }
  const cli = (args: string[], input?: string) => run(binary, args, { cwd: work, env, ...(input !== undefined && { input }) })

  const size = fs.statSync(binary).size
  t.comment(`binary size: ${(size / 1024 / 1024).toFixed(1)} MiB (${size} bytes)`)

  const version = await cli(['--version'])
  t.equal(version.code, 0)
  t.match(version.stdout, /^video-meetings \d+\.\d+\.\d+ \(Node\.js v24\.\d+\.\d+\)\n$/, 'runs on the embedded Node 24')
  const unknown = await cli(['frobnicate'])
  t.equal(unknown.code, 2, 'unknown command: exit 2')
  t.equal(unknown.stderr, 'video-meetings: Unknown command: frobnicate (see --help)\n', 'in one line')
  const badFlag = await cli(['serve', '--bogus'])
  t.equal(badFlag.code, 2, 'bad flag: exit 2')
  t.equal(badFlag.stderr.trim().split('\n').length, 1)

  // 3. Start it (no command = serve) and time the first /healthz 200.
  const started = process.hrtime.bigint()
  const server = spawn(binary, [], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let serverOut = ''
  server.stdout.on('data', (d) => (serverOut += d))
  server.stderr.on('data', (d) => (serverOut += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => server.on('close', (code, signal) => resolve({ code, signal })))
  t.teardown(() => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL')
  })
  const base = `http://127.0.0.1:${port}`
  let startupMs = -1
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && server.exitCode === null; ) {
    try {
      const res = await fetch(`${base}/healthz`)
      if (res.status === 200) {
        startupMs = Number(process.hrtime.bigint() - started) / 1e6
        t.same(await res.json(), { status: 'ok' }, '/healthz')
        break
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  t.ok(startupMs > 0, 'the server answers /healthz')
  if (startupMs < 0) {
    t.comment(serverOut.slice(-3000))
    return
  }
  t.comment(`start-up time to first /healthz 200: ${startupMs.toFixed(0)} ms`)

  const ready = await fetch(`${base}/readyz`)
  t.equal(ready.status, 200, '/readyz')
  t.same(await ready.json(), { status: 'ready' })

  // 4. The setup page (embedded templates) and htmx from the hashed URL it names (embedded assets).
  const setup = await fetch(`${base}/setup`)
  t.equal(setup.status, 200, 'the setup page')
  const html = await setup.text()
  t.match(html, /<form[^>]+action="\/setup"/)
  const htmxUrl = /\/assets\/[A-Za-z0-9_-]+\/vendor\/htmx\.min\.js/.exec(html)?.[0]
  t.ok(htmxUrl, 'the page names htmx under a hashed URL')
  const htmx = await fetch(`${base}${htmxUrl}`)
  t.equal(htmx.status, 200, 'htmx is served')
  t.match(htmx.headers.get('content-type'), /^text\/javascript/)
  t.equal(await htmx.text(), fs.readFileSync(path.join(root, 'node_modules', 'htmx.org', 'dist', 'htmx.min.js'), 'utf8'), 'the same htmx as in node_modules')

  // The SQLite addon was extracted into a private directory in the data directory.
  const nativeDir = path.join(dataDir, '.native')
  t.equal(fs.statSync(nativeDir).mode & 0o777, 0o700, 'the addon directory is private')
  t.match(fs.readdirSync(nativeDir), [/^better_sqlite3-[0-9a-f]{16}\.node$/])

  // 5. user add, with the password from a file, while the server runs; setup is then complete.
  const passwordFile = path.join(dir, 'password.txt')
  fs.writeFileSync(passwordFile, 'a long enough password\n', { mode: 0o600 })
  const add = await cli(['user', 'add', '--email', 'ops@example.com', '--name', 'Ops', '--admin', '--password-file', passwordFile])
  t.equal(add.code, 0, add.stderr)
  t.match(add.stdout, 'Added administrator Ops <ops@example.com>')
  t.equal((await fetch(`${base}/setup`, { redirect: 'manual' })).status, 404, 'the server sees the user the CLI added')

  // 6. backup while it serves (requests in flight), then check the copy with the tests' own SQLite.
  const backupFile = path.join(dir, 'backups', 'video-meetings.db')
  fs.mkdirSync(path.dirname(backupFile))
  const load = Array.from({ length: 20 }, () => fetch(`${base}/sign-in`).then((r) => r.status))
  const backup = await cli(['backup', backupFile])
  t.same(await Promise.all(load), Array(20).fill(200), 'requests kept being answered')
  t.equal(backup.code, 0, backup.stderr)
  t.match(backup.stdout, `Backed up ${path.join(dataDir, 'video-meetings.db')} to ${backupFile}`)
  t.equal(fs.statSync(backupFile).mode & 0o777, 0o600, 'the backup is readable by its owner only')
  const copy = new Database(backupFile, { readonly: true })
  try {
    t.equal(copy.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check = ok')
    t.equal(copy.prepare('SELECT email FROM users').pluck().get(), 'ops@example.com', 'the copy holds the data')
  } finally {
    copy.close()
  }
  const again = await cli(['backup', backupFile])
  t.equal(again.code, 2, 'backup never overwrites a file')

  // 7. SIGTERM: exit 0, within 10 s.
  const stopping = Date.now()
  server.kill('SIGTERM')
  const { code, signal } = await exited
  t.equal(code, 0, 'exit code 0 after SIGTERM')
  if (code !== 0) t.comment(`signal ${signal}; output:\n${serverOut.slice(-3000)}`)
  t.ok(Date.now() - stopping < 10_000, 'within 10 s')
  t.notMatch(serverOut, /Assertion failed|Native stack trace/, 'no native crash')
  const notJson = serverOut.trim().split('\n').filter((line) => {
    try {
      return typeof JSON.parse(line) !== 'object'
    } catch {
      return true
    }
  })
  t.same(notJson, [], 'logs are JSON lines')
  console.log(`# binary: ${(size / 1024 / 1024).toFixed(1)} MiB, start-up to first /healthz 200: ${startupMs.toFixed(0)} ms, build: ${buildSeconds.toFixed(1)} s`)
})
