import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { freePort, tempDir } from './helpers/app.js'

async function waitFor(url: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`${url} did not answer`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test('the server starts with a clear error on bad configuration', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, PORT: 'eighty', DATA_DIR: tempDir(t) } })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 2)
  t.equal(stderr.trim(), 'Invalid configuration: PORT must be a whole number, got "eighty"')
})

t.test('SIGTERM: in-flight requests finish, the database is closed cleanly, exit 0', async (t) => {
  const dataDir = tempDir(t)
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const base = `http://127.0.0.1:${port}`
  await waitFor(`${base}/healthz`)
  t.ok(fs.existsSync(path.join(dataDir, 'secret.key')), 'a key file is created when SECRET_KEY is absent')
  t.equal(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o777, 0o600)

  // The setup POST hashes a password (tens of milliseconds): signal while it runs.
  const page = await fetch(`${base}/setup`)
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!
  const body = new URLSearchParams({ _csrf: csrf, name: 'A', email: 'a@example.com', password: 'long enough pw', language: 'en', timeZone: 'UTC' })
  const inFlight = fetch(`${base}/setup`, { method: 'POST', body, headers: { cookie }, redirect: 'manual' })
  await new Promise((r) => setTimeout(r, 5))
  child.kill('SIGTERM')
  const res = await inFlight
  t.equal(res.status, 303, 'the in-flight request completed')
  const started = Date.now()
  t.equal(await exited, 0)
  t.ok(Date.now() - started < 10_000, 'within 10 s')
  const wal = path.join(dataDir, 'video-meetings.db-wal')
  t.ok(!fs.existsSync(wal) || fs.statSync(wal).size === 0, 'WAL checkpointed into the database file')
})
