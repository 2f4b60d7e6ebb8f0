/**
 * A small installation for the hardening tests: an admin, two users (Alice and Bob) with their own
 * follow-ups, mail settings and (for Bob) a video connection, Jitsi as the organization's provider (so
 * nothing leaves the machine), one follow-up type and a failed invitation that can be retried.
 */
import crypto from 'node:crypto'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { Db } from '../../src/db/database.js'
import { hashPassword } from '../../src/security/passwords.js'
import { Client, followUpForm, setUpAdmin, testApp } from '../helpers/app.js'

export const CONFIGURE = '/settings/video-meetings/configure'

/** Tables whose rows change on reads or by design on refusals: left out of the checksum. */
const NOT_CHECKED = new Set(['sessions', 'audit_log', 'outbox_attempts', 'sqlite_sequence', 'sqlite_stat1', 'sqlite_stat4'])

/** sha256 over every row of every table (except the few above), in rowid order. */
export function checksum(db: Db): string {
  const hash = crypto.createHash('sha256')
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]
  for (const table of tables) {
    if (NOT_CHECKED.has(table)) continue
    hash.update(`\u0000${table}\u0000`)
    for (const row of db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).raw().iterate()) hash.update(JSON.stringify(row, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : typeof v === 'bigint' ? String(v) : v)))
  }
  return hash.digest('hex')
}

/** Which table changed between two dumps (for messages). */
export function dump(db: Db): Record<string, string> {
  const out: Record<string, string> = {}
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]
  for (const table of tables) {
    if (NOT_CHECKED.has(table)) continue
    out[table] = crypto.createHash('sha256').update(JSON.stringify(db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).raw().all(), (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : v))).digest('hex')
  }
  return out
}

export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k])
}

export const FOLLOW_UP = followUpForm({ location: 'Room 1', sendInvitations: 'true' })

export const MAIL_FORM = {
  host: '127.0.0.1',
  port: '2525',
  security: 'none',
  username: 'alice-smtp',
  password: 'alice smtp password',
  fromName: 'Alice',
  fromAddress: 'alice@example.com',
  action: 'save',
}

/** The host in Bob's mail settings: must never appear on anyone else's pages. */
export const BOB_SMTP_HOST = 'bob-private-smtp.example.net'

export const USER_PASSWORD = 'a long enough password'

/** Signs in through the form; returns the signed-in client. */
export async function signInAs(app: FastifyInstance, email: string, password: string): Promise<Client> {
  const client = new Client(app)
  const res = await client.submit('/sign-in', '/sign-in', { email, password })
  if (res.statusCode !== 303) throw new Error(`sign-in of ${email} failed: ${res.statusCode}`)
  return client
}

export interface World {
  app: FastifyInstance
  admin: Client
  alice: Client
  bob: Client
  /** How many requests the app has answered so far. */
  requests: () => number
  /** Users with USER_PASSWORD, for sign-in tests. */
  signInEmails: string[]
  ids: {
    admin: number
    alice: number
    bob: number
    aliceFollowUp: number
    bobFollowUp: number
    adminFollowUp: number
    adminOutbox: number
    aliceOutbox: number
    bobOutbox: number
    type: number
    bobConnection: number
    aliceConnection: number
  }
}

/** Counts the requests an app answers through inject (for the reports). */
export function countRequests(app: FastifyInstance): () => number {
  let count = 0
  const inject = app.inject.bind(app) as (options: InjectOptions) => Promise<LightMyRequestResponse>
  Object.assign(app, {
    inject: (options: InjectOptions) => {
      count++
      return inject(options)
    },
  })
  return () => count
}

export async function buildWorld(t: Test, env: Record<string, string> = {}): Promise<World> {
  const app = await testApp(t, env, { startWorkers: false })
  const requests = countRequests(app)
  const admin = await setUpAdmin(app)
  const jitsi = await admin.submit(CONFIGURE, `${CONFIGURE}/jitsi`, {})
  if (jitsi.statusCode !== 303 || app.services.video.organization()?.provider !== 'jitsi') throw new Error(`configuring Jitsi: ${jitsi.statusCode}`)
  const type = await admin.submit('/settings/follow-up-types', '/settings/follow-up-types', { name: 'Hardening check-in', videoDefault: 'true' })
  if (type.statusCode !== 303) throw new Error(`adding a type: ${type.statusCode}`)
  const installation = await admin.submit('/settings/email', '/settings/email', { ...MAIL_FORM, host: 'installation-smtp.example.org', security: 'starttls', port: '587', fromName: 'Office', fromAddress: 'office@example.com' })
  if (installation.statusCode !== 303) throw new Error(`installation mail: ${installation.statusCode} ${installation.body.slice(0, 300)}`)

  // Users straight into the repository with one shared hash (scrypt at today's cost takes about a second),
  // then signed in through the form like anyone else.
  const users = app.services.users
  const passwordHash = await hashPassword(USER_PASSWORD)
  for (const [name, email] of [['Alice', 'alice@example.com'], ['Bob', 'bob@example.com']] as const) {
    users.create({ name, email, passwordHash, role: 'user', language: 'en', timeZone: 'Europe/Amsterdam' })
  }
  // Accounts for sign-in tests (failures are limited per account).
  const signInEmails = Array.from({ length: 30 }, (_, i) => `signin-${i}@example.com`)
  for (const email of signInEmails) users.create({ name: email, email, passwordHash, role: 'user', language: 'en', timeZone: 'UTC' })
  const [alice, bob] = await Promise.all(['alice@example.com', 'bob@example.com'].map((email) => signInAs(app, email, USER_PASSWORD)))
  const ids = {
    admin: users.findByEmailWithHash('ada@example.com')!.id,
    alice: users.findByEmailWithHash('alice@example.com')!.id,
    bob: users.findByEmailWithHash('bob@example.com')!.id,
  }
  for (const [who, client, form] of [
    ['alice', alice!, MAIL_FORM],
    ['bob', bob!, { ...MAIL_FORM, host: BOB_SMTP_HOST, security: 'starttls', port: '587', username: 'bob-smtp', fromName: 'Bob', fromAddress: 'bob@example.com' }],
  ] as const) {
    const saved = await client.submit('/preferences/email', '/preferences/email', form)
    if (saved.statusCode !== 303) throw new Error(`${who} mail settings: ${saved.statusCode} ${saved.body.slice(0, 300)}`)
  }

  const followUp = async (client: Client, title: string): Promise<number> => {
    const res = await client.submit('/follow-ups/new', '/follow-ups', { ...FOLLOW_UP, title })
    const match = /^\/follow-ups\/(\d+)$/.exec(String(res.headers.location))
    if (res.statusCode !== 303 || !match) throw new Error(`creating a follow-up: ${res.statusCode} ${res.headers.location} ${res.body.slice(0, 300)}`)
    return Number(match[1])
  }
  const aliceFollowUp = await followUp(alice!, 'Alice review')
  const bobFollowUp = await followUp(bob!, 'Bob private review')
  const adminFollowUp = await followUp(admin, 'Admin planning')
  const outboxOf = (followUpId: number) => app.db.prepare('SELECT id FROM outbox WHERE follow_up_id = ? ORDER BY id').pluck().get(followUpId) as number
  const aliceOutbox = outboxOf(aliceFollowUp)
  const bobOutbox = outboxOf(bobFollowUp)
  if (!aliceOutbox || !bobOutbox) throw new Error('no invitations queued')
  app.db.prepare("UPDATE outbox SET state = 'failed', last_error = 'test' WHERE id IN (?, ?)").run(aliceOutbox, bobOutbox)

  const connect = (userId: number, account: string) =>
    app.services.connections.connect({
      userId,
      provider: 'sandbox',
      accountId: account,
      accountName: account,
      accountEmail: `${account}@sandbox.example`,
      grantedScope: 'profile meetings',
      tokens: { accessToken: `access-${account}`, refreshToken: `refresh-${account}`, expiresAt: Date.now() + 3_600_000, scope: 'profile meetings' },
    }).id
  const typeId = app.services.followUpTypes.list().find((type) => type.name === 'Hardening check-in')!.id
  return {
    app,
    admin,
    alice: alice!,
    bob: bob!,
    signInEmails,
    requests,
    ids: { ...ids, aliceFollowUp, bobFollowUp, adminFollowUp, adminOutbox: outboxOf(adminFollowUp), aliceOutbox, bobOutbox, type: typeId, bobConnection: connect(ids.bob, 'bob'), aliceConnection: connect(ids.alice, 'alice') },
  }
}

/** Cookie header of a client (for raw app.inject calls). */
export function cookieOf(client: Client): string {
  return [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
}

/**
 * Runs one request inside a savepoint and rolls it back afterwards, so every probe starts from the same
 * database; `after` sees the database as the request left it.
 */
export async function probe<T>(db: Db, run: () => Promise<LightMyRequestResponse>, after: (res: LightMyRequestResponse) => T | Promise<T>): Promise<T> {
  db.exec('SAVEPOINT hardening_probe')
  try {
    const res = await run()
    return await after(res)
  } finally {
    db.exec('ROLLBACK TO hardening_probe; RELEASE hardening_probe')
  }
}

export type { InjectOptions }

/** Fills a route's :params from a table; unknown params get "1". */
export function fillUrl(url: string, params: Record<string, string | number>): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => String(params[name] ?? '1')).replace(/\*$/, 'x')
}
