/**
 * Fills a fresh data directory with realistic data for the benchmark, through the app's own code (migrations,
 * repositories, Vault, session store) against the database file the server will open:
 * 1,000 users, each with a Sandbox connection (sealed tokens the Sandbox API accepts) and 200 follow-ups
 * (half of them past, half upcoming; half with a ready video meeting; one to three attendees each), the
 * organization's provider set to the Sandbox, and one signed session per user.
 */
import crypto from 'node:crypto'
import path from 'node:path'
import { Signer } from '@fastify/cookie'
import { DATABASE_FILE } from '../src/app.js'
import { migrate, openDatabase, readMigrations } from '../src/db/database.js'
import { createOrganizationProviderRepository } from '../src/db/repositories/organization-provider.js'
import { createUserConnectionRepository } from '../src/db/repositories/user-connections.js'
import { createUserRepository } from '../src/db/repositories/users.js'
import { migrationsDir } from '../src/paths.js'
import { SqliteSessionStore } from '../src/db/repositories/sessions.js'
import { SANDBOX_CLIENT_ID } from '../src/sandbox/endpoints.js'
import { deriveKey, loadMasterSecret } from '../src/security/keys.js'
import { hashPassword } from '../src/security/passwords.js'
import { Vault } from '../src/security/vault.js'

export interface SeedOptions {
  dataDir: string
  secretKey: string
  users: number
  followUpsPerUser: number
  /** The server's SESSION_TTL_SECONDS (its default, 8 hours, unless set). */
  sessionTtlSeconds: number
}

export interface SeededUser {
  id: number
  email: string
  role: 'admin' | 'user'
  /** The Cookie header value of this user's signed-in session. */
  cookie: string
  csrf: string
}

export interface SeedResult {
  users: SeededUser[]
  password: string
  followUps: number
  ms: number
}

const sha256hex = (value: string) => crypto.createHash('sha256').update(value).digest('hex')
const TITLES = ['Quarterly review', 'Intro call', 'Contract renewal', 'Site visit follow-up', 'Demo', 'Onboarding', 'Check-in', 'Budget planning']
const PLACES = ['', '', 'Room 2.14', 'Head office, Amsterdam', '']
const ZONES = ['Europe/Amsterdam', 'Europe/London', 'America/New_York', 'UTC']

export async function seed(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now()
  const db = openDatabase(path.join(options.dataDir, DATABASE_FILE))
  migrate(db, readMigrations(migrationsDir))
  const master = loadMasterSecret(options.dataDir, options.secretKey)
  const vault = new Vault(master)
  const users = createUserRepository(db)
  const connections = createUserConnectionRepository(db, vault)
  const organization = createOrganizationProviderRepository(db)
  const ttlMs = options.sessionTtlSeconds * 1000
  const sessions = new SqliteSessionStore(db, ttlMs)
  // The cookie signer @fastify/session builds from the app's secret (src/app.ts).
  const signer = new Signer(deriveKey(master, 'session-cookie').toString('base64'))

  // scrypt is slow on purpose: one hash, reused by every user (they all have the same password).
  const password = 'benchmark password 1'
  const passwordHash = await hashPassword(password)

  const now = Date.now()
  const far = now + 30 * 24 * 3600 * 1000
  const insertAccount = db.prepare('INSERT INTO sandbox_accounts (id, email, name, created_at) VALUES (?, ?, ?, ?)')
  const insertToken = db.prepare(
    'INSERT INTO sandbox_tokens (token_hash, kind, family_id, client_id, account_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
  /** A live token pair at the Sandbox for an account: what a real sign-in there would have issued. */
  const sandboxTokens = (accountId: string) => {
    const family = crypto.randomUUID()
    const accessToken = `sbx_at_${crypto.randomBytes(32).toString('base64url')}`
    const refreshToken = `sbx_rt_${crypto.randomBytes(32).toString('base64url')}`
    insertToken.run(sha256hex(accessToken), 'access', family, SANDBOX_CLIENT_ID, accountId, 'profile meetings', now, far)
    insertToken.run(sha256hex(refreshToken), 'refresh', family, SANDBOX_CLIENT_ID, accountId, 'profile meetings', now, far)
    return { accessToken, refreshToken, expiresAt: far, scope: 'profile meetings' }
  }

  const insertFollowUp = db.prepare(
    `INSERT INTO follow_ups (user_id, type_id, title, starts_at, ends_at, time_zone, location, description, video, ical_uid)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertAttendee = db.prepare('INSERT INTO attendees (follow_up_id, email, invite, invited) VALUES (?, ?, 1, 0)')
  const insertMeeting = db.prepare(
    `INSERT INTO meetings (follow_up_id, provider, connection_id, request_id, external_id, join_url, passcode, state, synced_version)
     VALUES (?, 'sandbox', ?, ?, ?, ?, ?, 'ready', 1)`,
  )

  const seeded: SeededUser[] = []
  let followUps = 0
  db.transaction(() => {
    for (let i = 1; i <= options.users; i++) {
      const email = `user${i}@example.com`
      const user = users.create({
        email,
        name: `User ${i}`,
        passwordHash,
        role: i === 1 ? 'admin' : 'user',
        language: i % 5 === 0 ? 'nl' : 'en',
        timeZone: ZONES[i % ZONES.length]!,
      })
      const accountId = crypto.randomBytes(16).toString('base64url')
      insertAccount.run(accountId, email, `User ${i}`, now)
      const tokens = sandboxTokens(accountId)
      if (i === 1) {
        // The organization's provider: the Sandbox, connected by the first administrator (src/connections/organization-provider.ts).
        organization.connect({
          provider: 'sandbox',
          accountId,
          accountName: `User ${i}`,
          accountEmail: email,
          tokensSealed: vault.seal(JSON.stringify(sandboxTokens(accountId)), 'organization_provider:1:sandbox'),
          grantedScope: 'profile meetings',
          settings: { passcode: 'Ab3dE7gh', waitingRoom: false },
          connectedBy: user.id,
        })
      }
      const { id: connectionId } = connections.connect({
        userId: user.id,
        provider: 'sandbox',
        accountId,
        accountName: `User ${i}`,
        accountEmail: email,
        grantedScope: 'profile meetings',
        tokens,
      })

      for (let n = 0; n < options.followUpsPerUser; n++) {
        // Spread over 100 days back and 100 days ahead, in working hours.
        const day = Math.floor((n - options.followUpsPerUser / 2) / 2)
        const start = new Date(now + day * 86_400_000)
        start.setUTCHours(8 + ((n * 7 + i) % 9), (n % 2) * 30, 0, 0)
        const end = new Date(start.getTime() + (30 + (n % 3) * 15) * 60_000)
        const video = n % 2 === 0
        const title = `${TITLES[(n + i) % TITLES.length]} ${n + 1}`
        const id = Number(
          insertFollowUp.run(user.id, (n % 3) + 1, title, start.toISOString(), end.toISOString(), ZONES[i % ZONES.length], video ? '' : PLACES[n % PLACES.length], n % 4 === 0 ? 'Agenda: status, next steps, questions.' : '', video ? 1 : 0, `${crypto.randomUUID()}@video-meetings`)
            .lastInsertRowid,
        )
        for (let a = 0; a <= n % 3; a++) insertAttendee.run(id, `contact${(n * 3 + a) % 500}@customer${i % 50}.example`)
        if (video) {
          const meetingId = crypto.randomBytes(12).toString('base64url')
          insertMeeting.run(id, connectionId, crypto.randomUUID(), meetingId, `http://127.0.0.1/sandbox/meet/${meetingId}`, 'Ab3dE7gh')
        }
        followUps++
      }

      // A signed-in session, as @fastify/session would store it after POST /sign-in.
      const sessionId = crypto.randomBytes(24).toString('base64url')
      const csrf = crypto.randomBytes(32).toString('base64url')
      const expires = new Date(now + ttlMs)
      const stored = {
        cookie: { originalMaxAge: ttlMs, expires: expires.toISOString(), secure: 'auto', httpOnly: true, path: '/', sameSite: 'lax' },
        userId: user.id,
        csrfToken: csrf,
      }
      sessions.set(sessionId, stored, (error) => {
        if (error) throw error
      })
      seeded.push({ id: user.id, email, role: user.role, cookie: `vm_session=${encodeURIComponent(signer.sign(sessionId))}`, csrf })
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return { users: seeded, password, followUps, ms: performance.now() - started }
}
