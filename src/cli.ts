import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import { loadConfig, type Config } from './config.js'
import { migrate, openDatabase, readMigrations } from './db/database.js'
import { createAuditRepository } from './db/repositories/audit.js'
import { createUserRepository, DuplicateEmailError, type Language } from './db/repositories/users.js'
import { isEmail } from './forms.js'
import { isLanguage } from './i18n/index.js'
import { migrationsDir } from './paths.js'
import { hashPassword, passwordProblem, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from './security/passwords.js'
import { DATABASE_FILE } from './app.js'
import { exitOnConfigError } from './server.js'

export class UsageError extends Error {}

const HELP = `Usage: video-meetings <command> [options]

Commands:
  user add --email <email> --name <name> [--admin] [--language en|nl] [--password-file <file>]
                      Add a user. The password is read from --password-file, or asked for.
  user list           List users.

Configuration comes from environment variables (see README).`

function openRepositories(config: Config) {
  const db = openDatabase(path.join(config.dataDir, DATABASE_FILE))
  migrate(db, readMigrations(migrationsDir))
  return { db, users: createUserRepository(db), audit: createAuditRepository(db) }
}

/** Reads a password without echoing it when a terminal is attached, else one line from standard input. */
async function readPassword(prompt: string, input = process.stdin, output = process.stderr): Promise<string> {
  const rl = readline.createInterface({ input, output, terminal: input.isTTY === true })
  if (input.isTTY) {
    output.write(prompt)
    const writable = rl as unknown as { _writeToOutput: (s: string) => void }
    writable._writeToOutput = () => {}
  }
  try {
    const line = await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve)
      rl.once('close', () => reject(new UsageError('No password given')))
    })
    if (input.isTTY) output.write('\n')
    return line
  } finally {
    rl.close()
  }
}

async function userAdd(config: Config, argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'boolean', default: false },
      language: { type: 'string', default: 'en' },
      'time-zone': { type: 'string', default: 'UTC' },
      'password-file': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const email = values.email?.trim().toLowerCase() ?? ''
  const name = values.name?.trim() ?? ''
  if (!isEmail(email)) throw new UsageError('--email must be a valid email address')
  if (!name || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) throw new UsageError('--name is required (at most 100 characters)')
  if (!isLanguage(values.language)) throw new UsageError('--language must be en or nl')
  const password = values['password-file']
    ? fs.readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '')
    : await readPassword('Password: ')
  const problem = passwordProblem(password)
  if (problem === 'too_short') throw new UsageError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters`)
  if (problem === 'too_long') throw new UsageError(`The password must have at most ${MAX_PASSWORD_LENGTH} characters`)

  const { db, users, audit } = openRepositories(config)
  try {
    const user = users.create({
      email,
      name,
      passwordHash: await hashPassword(password),
      role: values.admin ? 'admin' : 'user',
      language: values.language as Language,
      timeZone: values['time-zone'] ?? 'UTC',
    })
    audit.record({ id: null, name: 'command line' }, 'user.create', user.email, { role: user.role })
    out.write(`Added ${user.role === 'admin' ? 'administrator' : 'user'} ${user.name} <${user.email}> (id ${user.id})\n`)
  } catch (error) {
    if (error instanceof DuplicateEmailError) throw new UsageError(`A user with the email ${email} already exists`)
    throw error
  } finally {
    db.close()
  }
}

function userList(config: Config, argv: string[], out: NodeJS.WritableStream): void {
  parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false })
  const { db, users } = openRepositories(config)
  try {
    const rows = users.list()
    out.write(['ID\tEMAIL\tNAME\tROLE\tSTATUS', ...rows.map((u) => `${u.id}\t${u.email}\t${u.name}\t${u.role}\t${u.active ? 'active' : 'deactivated'}`)].join('\n') + '\n')
  } finally {
    db.close()
  }
}

/** Runs one command; returns the process exit code (0 ok, 1 failure, 2 usage). */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, sub, ...rest] = argv
  try {
    if (command === undefined || command === '--help' || command === 'help' || command === '-h') {
      out.write(HELP + '\n')
      return 0
    }
    let config: Config
    try {
      config = loadConfig(env)
    } catch (error) {
      exitOnConfigError(error)
    }
    if (command === 'user' && sub === 'add') await userAdd(config, rest, out)
    else if (command === 'user' && sub === 'list') userList(config, rest, out)
    else throw new UsageError(`Unknown command: ${[command, sub].filter(Boolean).join(' ')} (see --help)`)
    return 0
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    err.write(`video-meetings: ${error instanceof Error ? error.message : String(error)}\n`)
    return usage ? 2 : 1
  }
}

if (process.argv[1]?.endsWith('/cli.js') || process.argv[1]?.endsWith('/cli.ts')) {
  runCli(process.argv.slice(2)).then((code) => process.exit(code))
}
