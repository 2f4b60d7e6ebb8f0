import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import t from 'tap'
import { runCli } from '../src/cli.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { migrate, openDatabase, readMigrations } from '../src/db/database.js'
import { migrationsDir } from '../src/paths.js'
import healthRoutes, { type ReadinessCheck } from '../src/routes/health.js'
import { Client, tempDir } from './helpers/app.js'

async function run(args: string[], env: Record<string, string>) {
  const out = new PassThrough()
  const err = new PassThrough()
  let stdout = ''
  let stderr = ''
  out.on('data', (d) => (stdout += d))
  err.on('data', (d) => (stderr += d))
  const code = await runCli(args, env, out, err)
  return { code, stdout, stderr }
}

t.test('user add (password from a file) and user list; the user can sign in', async (t) => {
  const dataDir = tempDir(t)
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
  const passwordFile = path.join(dataDir, 'pw.txt')
  fs.writeFileSync(passwordFile, 'scripted password 1\n')
  const added = await run(['user', 'add', '--email', 'Ops@Example.com', '--name', 'Ops', '--admin', '--password-file', passwordFile], env)
  t.equal(added.code, 0, added.stderr)
  t.match(added.stdout, 'Added administrator Ops <ops@example.com>')
  const list = await run(['user', 'list'], env)
  t.equal(list.code, 0)
  t.match(list.stdout, /^ID\tEMAIL\tNAME\tROLE\tSTATUS\n1\tops@example.com\tOps\tadmin\tactive\n$/)

  const app = await buildApp(loadConfig(env))
  t.teardown(() => app.close())
  t.equal((await app.inject({ url: '/setup' })).statusCode, 404, 'a user added by the CLI completes setup')
  const client = new Client(app)
  const res = await client.submit('/sign-in', '/sign-in', { email: 'ops@example.com', password: 'scripted password 1' })
  t.equal(res.statusCode, 303)
})

t.test('bad commands and flags: one line, exit code 2; nothing written', async (t) => {
  const env = { DATA_DIR: tempDir(t), LOG_LEVEL: 'silent' }
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /Unknown command: frobnicate/],
    [['user', 'add', '--email', 'x@example.com', '--name', 'X', '--bogus'], /Unknown option '--bogus'/],
    [['user', 'add', '--email', 'not-an-email', '--name', 'X'], /--email must be a valid email address/],
    [['user', 'add', '--email', 'x@example.com'], /--name is required/],
    [['user', 'add', '--email', 'x@example.com', '--name', 'X', '--language', 'de'], /--language must be en or nl/],
  ]
  for (const [args, message] of cases) {
    const result = await run(args, env)
    t.equal(result.code, 2, args.join(' '))
    t.match(result.stderr, message)
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line')
  }
  t.equal((await run(['--help'], env)).code, 0)
  t.match((await run(['user', 'list'], env)).stdout, /^ID.*\n$/, 'no user was created')
})

t.test('a duplicate email and a short password are refused', async (t) => {
  const dataDir = tempDir(t)
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
  const pw = path.join(dataDir, 'pw')
  fs.writeFileSync(pw, 'long enough password')
  t.equal((await run(['user', 'add', '--email', 'a@example.com', '--name', 'A', '--password-file', pw], env)).code, 0)
  const dup = await run(['user', 'add', '--email', 'A@example.com', '--name', 'A2', '--password-file', pw], env)
  t.equal(dup.code, 2)
  t.match(dup.stderr, 'already exists')
  fs.writeFileSync(pw, 'short')
  const short = await run(['user', 'add', '--email', 'b@example.com', '--name', 'B', '--password-file', pw], env)
  t.equal(short.code, 2)
  t.match(short.stderr, 'at least 10 characters')
})

t.test('the real command reads the password from standard input when no file is given', async (t) => {
  const dataDir = tempDir(t)
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'user', 'add', '--email', 'pipe@example.com', '--name', 'Pipe'], {
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stdin.end('piped password here\n')
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 0)
  t.match(stdout, 'Added user Pipe <pipe@example.com>')
})

function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}

t.test('user set-password and user deactivate: sessions end; the last administrator stays', async (t) => {
  const dataDir = tempDir(t)
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
  const pw = writeFile(dataDir, 'pw', 'first password 1\n')
  t.equal((await run(['user', 'add', '--email', 'admin@example.com', '--name', 'Admin', '--admin', '--password-file', pw], env)).code, 0)
  t.equal((await run(['user', 'add', '--email', 'user@example.com', '--name', 'User', '--password-file', pw], env)).code, 0)

  const app = await buildApp(loadConfig(env))
  t.teardown(() => app.close())
  const client = new Client(app)
  t.equal((await client.submit('/sign-in', '/sign-in', { email: 'user@example.com', password: 'first password 1' })).statusCode, 303)
  t.equal((await client.get('/preferences/general')).statusCode, 200, 'signed in')

  const newPw = writeFile(dataDir, 'pw2', 'second password 2')
  const set = await run(['user', 'set-password', '--email', 'USER@example.com', '--password-file', newPw], env)
  t.equal(set.code, 0, set.stderr)
  t.match(set.stdout, 'Set the password of User <user@example.com>')
  t.not((await client.get('/preferences/general')).statusCode, 200, 'the old session ended')
  const fresh = new Client(app)
  t.not((await fresh.submit('/sign-in', '/sign-in', { email: 'user@example.com', password: 'first password 1' })).statusCode, 303, 'the old password fails')
  t.equal((await fresh.submit('/sign-in', '/sign-in', { email: 'user@example.com', password: 'second password 2' })).statusCode, 303, 'the new one works')

  const off = await run(['user', 'deactivate', '--email', 'user@example.com'], env)
  t.equal(off.code, 0, off.stderr)
  t.match(off.stdout, 'Deactivated User <user@example.com>')
  t.not((await fresh.get('/preferences/general')).statusCode, 200, 'the session ended')
  t.match((await run(['user', 'list'], env)).stdout, 'user@example.com\tUser\tuser\tdeactivated')
  t.match((await run(['user', 'deactivate', '--email', 'user@example.com'], env)).stdout, 'already deactivated')

  const last = await run(['user', 'deactivate', '--email', 'admin@example.com'], env)
  t.equal(last.code, 1)
  t.equal(last.stderr, 'video-meetings: admin@example.com is the last active administrator and stays active\n')
  const nobody = await run(['user', 'set-password', '--email', 'nobody@example.com', '--password-file', newPw], env)
  t.equal(nobody.code, 2)
  t.match(nobody.stderr, 'No user with the email nobody@example.com')
  t.equal((await run(['user', 'set-password', '--email', 'user@example.com', '--password-file', path.join(dataDir, 'missing')], env)).code, 2)
})

t.test('backup: a consistent copy of the live database (SQLite backup API), never over an existing file', async (t) => {
  const dataDir = tempDir(t)
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
  const target = path.join(dataDir, 'copies', 'backup.db')
  const none = await run(['backup', target], env)
  t.equal(none.code, 1, 'no database yet')
  t.match(none.stderr, 'There is no database at')

  // The app holds the database open and writes to it (WAL), as a running server does.
  const app = await buildApp(loadConfig(env))
  t.teardown(() => app.close())
  const pw = writeFile(dataDir, 'pw', 'long enough password')
  t.equal((await run(['user', 'add', '--email', 'a@example.com', '--name', 'A', '--admin', '--password-file', pw], env)).code, 0)
  app.services.audit.record({ id: null, name: 'test' }, 'test.write', 'not yet checkpointed')

  t.equal((await run(['backup', target], env)).code, 1, 'the target folder must exist')
  fs.mkdirSync(path.dirname(target))
  const done = await run(['backup', target], env)
  t.equal(done.code, 0, done.stderr)
  t.match(done.stdout, `Backed up ${path.join(dataDir, 'video-meetings.db')} to ${target}`)
  t.match(done.stdout, 'Keep ' + path.join(dataDir, 'secret.key'), 'reminds of the key file')
  t.same(fs.readdirSync(path.dirname(target)), ['backup.db'], 'no partial or WAL files left')
  t.equal(fs.statSync(target).mode & 0o777, 0o600)
  const copy = new Database(target, { readonly: true })
  t.teardown(() => copy.close())
  t.equal(copy.pragma('integrity_check', { simple: true }), 'ok')
  t.equal(copy.prepare("SELECT subject FROM audit_log WHERE action = 'test.write'").pluck().get(), 'not yet checkpointed', 'includes what is still in the WAL')

  const again = await run(['backup', target], env)
  t.equal(again.code, 2)
  t.match(again.stderr, 'never overwrites')
  t.equal((await run(['backup'], env)).code, 2, 'the file is required')
  t.equal((await run(['backup', 'a.db', 'b.db'], env)).code, 2, 'one file only')
  t.notMatch((await run(['backup', path.join(dataDir, 'other.db')], { ...env, SECRET_KEY: 'k'.repeat(40) })).stdout, 'Keep', 'no key file to mention with SECRET_KEY')
})

t.test('migrate applies pending migrations once', async (t) => {
  const env = { DATA_DIR: tempDir(t), LOG_LEVEL: 'silent' }
  const first = await run(['migrate'], env)
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /^Applied migrations 1, 2, .*; the database is at version \d+\n$/)
  const second = await run(['migrate'], env)
  t.match(second.stdout, /^The database is up to date \(version \d+\)\n$/)
  t.equal((await run(['migrate', 'now'], env)).code, 2)
})

t.test('check-config prints the configuration with secrets masked; --config files sit below the environment', async (t) => {
  const dir = tempDir(t)
  const secret = 'a-very-secret-master-key-of-48-characters-xxxxxxx'
  const file = writeFile(
    dir,
    'video-meetings.conf',
    [
      '# comment',
      '',
      `DATA_DIR=${path.join(dir, 'from-file')}`,
      'PORT=4100',
      `export SECRET_KEY="${secret}"`,
      "ZOOM_CLIENT_ID='zoom-id'",
      'ZOOM_CLIENT_SECRET=zoom-client-secret-value',
      'LOG_LEVEL=debug',
    ].join('\n'),
  )
  const result = await run(['check-config', '--config', file], { PORT: '4200' })
  t.equal(result.code, 0, result.stderr)
  const printed = JSON.parse(result.stdout) as Record<string, unknown> & { providers: { oauth: { zoom: { envClient: unknown; endpoints: { tokenUrl: string } } } } }
  t.equal(printed.port, 4200, 'the environment wins over the file')
  t.equal(printed.dataDir, path.join(dir, 'from-file'), 'the file fills in what the environment lacks')
  t.equal(printed.logLevel, 'debug')
  t.equal(printed.secretKey, '********')
  t.same(printed.providers.oauth.zoom.envClient, { id: 'zoom-id', secret: '********' })
  t.equal(printed.providers.oauth.zoom.endpoints.tokenUrl, 'https://zoom.us/oauth/token', 'URLs named "token" are not secrets')
  t.notMatch(result.stdout, secret)
  t.notMatch(result.stdout, 'zoom-client-secret-value')
  t.notOk(fs.existsSync(path.join(dir, 'from-file')), 'check-config touches no data')
  t.equal((await run([`--config=${file}`, 'check-config'], {})).code, 0, '--config=<file>, before the command')

  const bad = await run(['check-config'], { PORT: 'eighty' })
  t.equal(bad.code, 2)
  t.equal(bad.stderr, 'Invalid configuration: PORT must be a whole number, got "eighty"\n')
  const badLine = await run(['check-config', '--config', writeFile(dir, 'bad.conf', 'PORT=1\nthis is not a setting\n')], {})
  t.equal(badLine.code, 2)
  t.match(badLine.stderr, /^Invalid configuration: --config .*bad\.conf line 2: expected KEY=VALUE\n$/)
  const missing = await run(['user', 'list', '--config', path.join(dir, 'missing.conf')], {})
  t.equal(missing.code, 2)
  t.match(missing.stderr, /cannot read .*missing\.conf \(ENOENT\)/)
  t.equal((await run(['check-config', '--config'], {})).code, 2, '--config needs a file')
})

t.test('--version, --help and the remaining usage errors', async (t) => {
  const env = { DATA_DIR: tempDir(t), LOG_LEVEL: 'silent' }
  const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }
  const v = await run(['--version'], env)
  t.equal(v.code, 0)
  t.equal(v.stdout, `video-meetings ${version} (Node.js ${process.version})\n`)
  const help = await run(['--help'], env)
  for (const command of ['serve', 'user add', 'user list', 'user set-password', 'user deactivate', 'backup <file>', 'migrate', 'check-config', '--version', '--config <file>']) {
    t.match(help.stdout, command, `--help mentions ${command}`)
  }
  const cases: [string[], RegExp][] = [
    [['user'], /user needs a subcommand/],
    [['user', 'remove'], /Unknown command: user remove/],
    [['serve', '--port', '80'], /Unknown option '--port'/],
    [['check-config', '--verbose'], /Unknown option '--verbose'/],
    [['user', 'deactivate', '--email'], /--email/],
  ]
  for (const [args, message] of cases) {
    const result = await run(args, env)
    t.equal(result.code, 2, args.join(' '))
    t.match(result.stderr, message)
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line')
  }
})

t.test('the real command serves with --config and stops on SIGTERM with exit 0', async (t) => {
  const dir = tempDir(t)
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
  const file = writeFile(dir, 'vm.conf', `PORT=${port}\nDATA_DIR=${path.join(dir, 'data')}\nLOG_LEVEL=warn\n`)
  const { PORT: _port, DATA_DIR: _dataDir, ...env } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--config', file], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let ok = false
  for (const deadline = Date.now() + 20_000; !ok && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)
  }
  t.ok(ok, 'no command means serve; the port comes from the file')
  t.ok(fs.existsSync(path.join(dir, 'data', 'video-meetings.db')), 'DATA_DIR from the file')
  child.kill('SIGTERM')
  t.equal(await exited, 0)
})

t.test('readyz: extra readiness checks (the mail worker registers one)', async (t) => {
  const db = openDatabase(':memory:')
  const migrations = readMigrations(migrationsDir)
  migrate(db, migrations)
  const app = Fastify()
  app.decorate('db', db)
  const checks: ReadinessCheck[] = [{ name: 'always', check: () => true }]
  await app.register(healthRoutes, { expectedSchemaVersion: migrations.length, checks })
  t.teardown(async () => {
    await app.close()
    db.close()
  })
  t.same((await app.inject('/readyz')).json(), { status: 'ready' })
  let running = false
  checks.push({ name: 'mail worker', check: async () => running }, { name: 'broken', check: () => { throw new Error('boom') } })
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503, 'a check added after registration counts')
  t.same(res.json(), { status: 'not ready', failing: ['mail worker', 'broken'] })
  running = true
  checks.pop()
  t.equal((await app.inject('/readyz')).statusCode, 200)
})
