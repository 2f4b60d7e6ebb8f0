import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { runCli } from '../src/cli.js'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
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
