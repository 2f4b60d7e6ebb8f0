import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, withConfigFile, type Config } from './config.js'
import { migrate, openDatabase, readMigrations, schemaVersion, type Migration } from './db/database.js'
import { createAuditRepository } from './db/repositories/audit.js'
import { SqliteSessionStore } from './db/repositories/sessions.js'
import { transactor } from './db/transaction.js'
import { createAccountService } from './users/accounts.js'
import { createUserRepository, DuplicateEmailError, LastAdminError } from './db/repositories/users.js'
import type { Language } from './i18n/languages.js'
import { isEmail } from './forms.js'
import { isLanguage } from './i18n/languages.js'
import { appRoot, embedded, migrationsDir } from './paths.js'
import { hashPassword, passwordProblem, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from './security/passwords.js'
import { KEY_FILE_NAME } from './security/keys.js'
import { DATABASE_FILE, type AppDependencies } from './app.js'
import { serve } from './serve.js'

export class UsageError extends Error {}

/** What differs between running from a checkout and the single executable (src/sea/main.ts). */
export interface CliRuntime {
  version: string
  /** The migrations to apply: embedded in the binary, db/migrations/ otherwise. */
  migrations(): Migration[]
  /** Extra dependencies for buildApp: the binary's embedded assets and templates. */
  appDependencies(): AppDependencies
  /** Runs once the configuration is known, before a database is opened (the binary loads its SQLite addon). */
  prepare?(config: Config): void
}

export const sourceRuntime: CliRuntime = {
  get version() {
    return (JSON.parse(fs.readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as { version: string }).version
  },
  migrations: () => readMigrations(migrationsDir),
  appDependencies: () => ({}),
}

export const HELP = `Usage: video-meetings [command] [options] [--config <file>]

Commands:
  serve               Run the server (the default when no command is given). Applies pending migrations.
  user add --email <email> --name <name> [--admin] [--language en|nl] [--time-zone <zone>] [--password-file <file>]
                      Add a user. The password is read from --password-file, or asked for (or read from
                      standard input when it is not a terminal).
  user list           List users.
  user set-password --email <email> [--password-file <file>]
                      Set a user's password and sign them out everywhere.
  user deactivate --email <email>
                      Deactivate a user and sign them out everywhere (not the last active administrator).
  backup <file>       Write a consistent copy of the live database to <file> (SQLite's online backup API:
                      safe while the server runs). Never overwrites a file.
  migrate             Apply pending database migrations and exit.
  check-config        Validate the configuration and print it, secrets masked.
  --version           Print the version.
  --help              Print this help.

Options:
  --config <file>     Read settings from a file of KEY=VALUE lines (the same keys as the environment
                      variables, see README); a variable set in the environment wins over the file.

Exit codes: 0 done, 1 failed, 2 bad command, flag or configuration.`

function databaseFile(config: Config): string {
  return path.join(config.dataDir, DATABASE_FILE)
}

function openRepositories(config: Config, runtime: CliRuntime) {
  const db = openDatabase(databaseFile(config))
  migrate(db, runtime.migrations())
  const users = createUserRepository(db)
  const accounts = createAccountService({ transact: transactor(db), users, sessions: new SqliteSessionStore(db, 0) })
  return { db, users, accounts, audit: createAuditRepository(db) }
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

async function newPassword(file: string | undefined): Promise<string> {
  let password: string
  if (file) {
    try {
      password = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    } catch (error) {
      throw new UsageError(`Cannot read --password-file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
    }
  } else password = await readPassword('Password: ')
  const problem = passwordProblem(password)
  if (problem === 'too_short') throw new UsageError(`The password must have at least ${MIN_PASSWORD_LENGTH} characters`)
  if (problem === 'too_long') throw new UsageError(`The password must have at most ${MAX_PASSWORD_LENGTH} characters`)
  return password
}

function emailOption(raw: string | undefined): string {
  const email = raw?.trim().toLowerCase() ?? ''
  if (!isEmail(email)) throw new UsageError('--email must be a valid email address')
  return email
}

const ACTOR = { id: null, name: 'command line' }

async function userAdd(config: Config, runtime: CliRuntime, argv: string[], out: NodeJS.WritableStream): Promise<void> {
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
  const email = emailOption(values.email)
  const name = values.name?.trim() ?? ''
  if (!name || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) throw new UsageError('--name is required (at most 100 characters)')
  if (!isLanguage(values.language)) throw new UsageError('--language must be en or nl')
  const password = await newPassword(values['password-file'])

  const { db, users, audit } = openRepositories(config, runtime)
  try {
    const user = users.create({
      email,
      name,
      passwordHash: await hashPassword(password),
      role: values.admin ? 'admin' : 'user',
      language: values.language as Language,
      timeZone: values['time-zone'] ?? 'UTC',
    })
    audit.record(ACTOR, 'user.create', user.email, { role: user.role })
    out.write(`Added ${user.role === 'admin' ? 'administrator' : 'user'} ${user.name} <${user.email}> (id ${user.id})\n`)
  } catch (error) {
    if (error instanceof DuplicateEmailError) throw new UsageError(`A user with the email ${email} already exists`)
    throw error
  } finally {
    db.close()
  }
}

function userList(config: Config, runtime: CliRuntime, argv: string[], out: NodeJS.WritableStream): void {
  parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false })
  const { db, users } = openRepositories(config, runtime)
  try {
    const rows = users.list()
    out.write(['ID\tEMAIL\tNAME\tROLE\tSTATUS', ...rows.map((u) => `${u.id}\t${u.email}\t${u.name}\t${u.role}\t${u.active ? 'active' : 'deactivated'}`)].join('\n') + '\n')
  } finally {
    db.close()
  }
}

async function userSetPassword(config: Config, runtime: CliRuntime, argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { email: { type: 'string' }, 'password-file': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  })
  const email = emailOption(values.email)
  const password = await newPassword(values['password-file'])
  const { db, users, accounts, audit } = openRepositories(config, runtime)
  try {
    const user = users.findByEmailWithHash(email)
    if (!user) throw new UsageError(`No user with the email ${email}`)
    accounts.setPassword(user.id, await hashPassword(password))
    audit.record(ACTOR, 'user.password', user.email)
    out.write(`Set the password of ${user.name} <${user.email}>; their sessions were ended\n`)
  } finally {
    db.close()
  }
}

function userDeactivate(config: Config, runtime: CliRuntime, argv: string[], out: NodeJS.WritableStream): void {
  const { values } = parseArgs({ args: argv, options: { email: { type: 'string' } }, strict: true, allowPositionals: false })
  const email = emailOption(values.email)
  const { db, users, accounts, audit } = openRepositories(config, runtime)
  try {
    const user = users.findByEmailWithHash(email)
    if (!user) throw new UsageError(`No user with the email ${email}`)
    if (!user.active) {
      out.write(`${user.name} <${user.email}> is already deactivated\n`)
      return
    }
    try {
      accounts.setActive(user.id, false)
    } catch (error) {
      if (error instanceof LastAdminError) throw new Error(`${user.email} is the last active administrator and stays active`)
      throw error
    }
    audit.record(ACTOR, 'user.deactivate', user.email)
    out.write(`Deactivated ${user.name} <${user.email}>; their sessions were ended\n`)
  } finally {
    db.close()
  }
}

/**
 * An online, consistent copy through SQLite's backup API (never a file copy, which can tear a live WAL
 * database). Written to <file>.partial (mode 0600), checked with integrity_check, then renamed into place.
 * Migrations are not applied: a backup taken before an upgrade must be the old database as it was.
 */
async function backup(config: Config, argv: string[], out: NodeJS.WritableStream): Promise<void> {
  const { positionals } = parseArgs({ args: argv, options: {}, strict: true, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('backup needs exactly one argument: the file to write')
  const target = path.resolve(positionals[0]!)
  const source = databaseFile(config)
  if (!fs.existsSync(source)) throw new Error(`There is no database at ${source} (check DATA_DIR)`)
  if (fs.existsSync(target)) throw new UsageError(`${target} exists; backup never overwrites a file`)
  const partial = `${target}.partial`
  // Created empty (a valid empty database) with the final permissions before SQLite writes into it.
  fs.closeSync(fs.openSync(partial, 'wx', 0o600))
  try {
    const db = openDatabase(source)
    let pages: number
    try {
      pages = (await db.backup(partial)).totalPages
    } finally {
      db.close()
    }
    const copy = openDatabase(partial)
    try {
      const check = copy.pragma('integrity_check', { simple: true })
      if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`)
      copy.pragma('wal_checkpoint(TRUNCATE)')
    } finally {
      copy.close()
    }
    fs.renameSync(partial, target)
    const size = fs.statSync(target).size
    out.write(`Backed up ${source} to ${target} (${pages} pages, ${(size / 1024 / 1024).toFixed(1)} MiB)\n`)
    if (!config.secretKey) {
      out.write(`Keep ${path.join(config.dataDir, KEY_FILE_NAME)} with it: the stored tokens and sessions cannot be read without that key\n`)
    }
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(partial + suffix, { force: true })
    throw error
  }
}

function migrateCommand(config: Config, runtime: CliRuntime, argv: string[], out: NodeJS.WritableStream): void {
  parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false })
  const db = openDatabase(databaseFile(config))
  try {
    const applied = migrate(db, runtime.migrations())
    out.write(
      applied.length > 0
        ? `Applied migration${applied.length > 1 ? 's' : ''} ${applied.join(', ')}; the database is at version ${schemaVersion(db)}\n`
        : `The database is up to date (version ${schemaVersion(db)})\n`,
    )
    db.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    db.close()
  }
}

const SECRET_NAME = /secret|password|passphrase|credential|private.?key|api.?key|^(access|refresh|id)?.?token$/i

/** A copy of the configuration safe to print: secret-named values and passwords in URLs replaced. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_NAME.test(key) && value !== '') return '********'
    return value.replace(/(\/\/[^/@:\s]*:)[^/@\s]*@/, '$1********@')
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)]))
  }
  return value
}

function checkConfig(config: Config, argv: string[], out: NodeJS.WritableStream): void {
  parseArgs({ args: argv, options: {}, strict: true, allowPositionals: false })
  // Unset optional values print as null rather than vanishing.
  out.write(JSON.stringify(maskSecrets(config), (_key, v: unknown) => (v === undefined ? null : v), 2) + '\n')
}

/** Takes `--config <file>` / `--config=<file>` out of the arguments, wherever it stands. */
function extractConfigFile(argv: string[]): { argv: string[]; configFile: string | undefined } {
  const rest: string[] = []
  let configFile: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--config' || arg.startsWith('--config=')) {
      const value = arg === '--config' ? argv[++i] : arg.slice('--config='.length)
      if (!value) throw new UsageError('--config needs a file')
      configFile = value
    } else rest.push(arg)
  }
  return { argv: rest, configFile }
}

/**
 * Runs one command; resolves to the process exit code (0 ok, 1 failure, 2 usage or configuration), or null
 * when the server was started and keeps running (it exits on SIGTERM/SIGINT).
 */
export async function runCli(
  argvIn: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  runtime: CliRuntime = sourceRuntime,
): Promise<number | null> {
  try {
    const { argv, configFile } = extractConfigFile(argvIn)
    const [command = 'serve', sub, ...rest] = argv
    if (command === '--help' || command === '-h' || command === 'help') {
      out.write(HELP + '\n')
      return 0
    }
    if (command === '--version' || command === '-v' || command === 'version') {
      out.write(`video-meetings ${runtime.version} (Node.js ${process.version})\n`)
      return 0
    }
    const known = ['serve', 'user', 'backup', 'migrate', 'check-config']
    if (!known.includes(command)) throw new UsageError(`Unknown command: ${command} (see --help)`)
    const userCommands = ['add', 'list', 'set-password', 'deactivate']
    if (command === 'user' && (sub === undefined || !userCommands.includes(sub))) {
      throw new UsageError(sub === undefined ? `user needs a subcommand: ${userCommands.join(', ')}` : `Unknown command: user ${sub} (see --help)`)
    }
    const args = command === 'user' ? rest : argv.slice(1)

    const config = loadConfig(withConfigFile(env, configFile))
    if (command === 'check-config') {
      checkConfig(config, args, out)
      return 0
    }
    runtime.prepare?.(config)
    switch (command) {
      case 'serve':
        parseArgs({ args, options: {}, strict: true, allowPositionals: false })
        try {
          await serve(config, runtime.appDependencies())
        } catch (error) {
          err.write(`Video Meetings could not start: ${error instanceof Error ? error.message : String(error)}\n`)
          return 1
        }
        return null
      case 'backup':
        await backup(config, args, out)
        break
      case 'migrate':
        migrateCommand(config, runtime, args, out)
        break
      default:
        if (sub === 'add') await userAdd(config, runtime, args, out)
        else if (sub === 'list') userList(config, runtime, args, out)
        else if (sub === 'set-password') await userSetPassword(config, runtime, args, out)
        else userDeactivate(config, runtime, args, out)
    }
    return 0
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`${error.message}\n`)
      return 2
    }
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    err.write(`video-meetings: ${error instanceof Error ? error.message.split('\n', 1)[0] : String(error)}\n`)
    return usage ? 2 : 1
  }
}

/** The process entry: runs the command and exits with its code, unless it started the server. */
export async function main(argv: string[], runtime: CliRuntime = sourceRuntime): Promise<void> {
  const code = await runCli(argv, process.env, process.stdout, process.stderr, runtime)
  if (code !== null) process.exit(code)
}

if (!embedded && (process.argv[1]?.endsWith('/cli.js') || process.argv[1]?.endsWith('/cli.ts'))) {
  void main(process.argv.slice(2))
}
