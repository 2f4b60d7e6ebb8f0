import crypto from 'node:crypto'
import path from 'node:path'
import t, { type Test } from 'tap'
import { createTokenManager, type TokenManager, type TokenManagerLog } from '../../src/connections/token-manager.js'
import { migrate, openDatabase, readMigrations, type Db } from '../../src/db/database.js'
import { createUserConnectionRepository, type UserConnectionRepository } from '../../src/db/repositories/user-connections.js'
import { createOAuthClient, type OAuthClient, type TokenSet } from '../../src/connections/oauth-client.js'
import { migrationsDir } from '../../src/paths.js'
import type { ProviderAdapter, ProviderEndpoints } from '../../src/providers/contract.js'
import { googleMeetProvider } from '../../src/providers/google-meet/adapter.js'
import { createApiClient } from '../../src/providers/http.js'
import { zoomProvider } from '../../src/providers/zoom/adapter.js'
import { Vault } from '../../src/security/vault.js'
import type { Knobs, ProviderFake } from '../fakes/common.js'
import { startGoogleFake } from '../fakes/google.js'
import { startZoomFake } from '../fakes/zoom.js'
import { startWebexFake } from '../fakes/webex.js'
import { webexProvider } from '../../src/providers/webex/adapter.js'
import { tempDir } from '../helpers/app.js'
import { connect, REDIRECT_URI, rejectsWith } from '../providers/helpers.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** One "process": its own better-sqlite3 connection to the file, repository, OAuth client and manager. */
interface Proc {
  db: Db
  repo: UserConnectionRepository
  client: OAuthClient
  manager: TokenManager
}

interface World {
  fake: ProviderFake
  adapter: ProviderAdapter
  endpoints: ProviderEndpoints
  file: string
  key: Buffer
  /** Shared by every manager and OAuth client; `clock.offset` moves time forward. */
  clock: { offset: number; now: () => number }
  id: number
  userId: number
  initial: TokenSet
  tokenCalls(): number
  proc(options?: { owner?: string; timeoutMs?: number; leaseMs?: number; pollMs?: number; wrap?: (client: OAuthClient) => OAuthClient; log?: TokenManagerLog }): Promise<Proc>
  row(): { version: number; status: string; status_reason: string; refresh_lease_until: number; refresh_lease_owner: string }
  /** Expire the stored access token for us and at the fake. */
  expire(): void
}

async function world(t: Test, provider: 'zoom' | 'google' | 'webex', knobs: Partial<Knobs> = {}): Promise<World> {
  const fake = provider === 'zoom' ? await startZoomFake({ knobs }) : provider === 'google' ? await startGoogleFake({ knobs }) : await startWebexFake({ knobs })
  t.teardown(() => fake.close())
  const adapter = provider === 'zoom' ? zoomProvider : provider === 'google' ? googleMeetProvider : webexProvider
  const tokenPath = provider === 'zoom' ? '/oauth/token' : provider === 'google' ? '/token' : '/v1/access_token'
  const file = path.join(tempDir(t), 'app.db')
  const key = crypto.randomBytes(32)
  const clock = { offset: 0, now: () => Date.now() + clock.offset }

  const db = openDatabase(file)
  migrate(db, readMigrations(migrationsDir))
  t.teardown(() => db.close())
  const repo = createUserConnectionRepository(db, new Vault(key), clock.now)
  const userId = db.prepare<[], { id: number }>("INSERT INTO users (email, name, password_hash) VALUES ('ann@example.com', 'Ann', 'x') RETURNING id").get()!.id

  // Real tokens: authorize → token with PKCE at the fake (before the knobs slow the token endpoint down).
  const saved = { ...fake.knobs }
  Object.assign(fake.knobs, { tokenDelayMs: 0, tokenStatus5xx: null, tokenError: null })
  const c = await connect(fake, adapter)
  Object.assign(fake.knobs, saved)
  const r = c.tokenResponse
  t.type(r.refresh_token, 'string', 'the sign-in handed out a refresh token')
  // Stored as already expired, so the first accessToken() must refresh.
  const initial: TokenSet = { accessToken: String(r.access_token), refreshToken: String(r.refresh_token), expiresAt: clock.now() - 1000, scope: typeof r.scope === 'string' ? r.scope : null }
  fake.expireAccessTokensNow()
  const { id } = repo.connect({ userId, provider: adapter.id, accountId: 'acc-1', accountName: 'Ann', accountEmail: 'ann@example.com', grantedScope: initial.scope ?? '', tokens: initial })

  const peek = db.prepare<[number], ReturnType<World['row']>>('SELECT version, status, status_reason, refresh_lease_until, refresh_lease_owner FROM user_connections WHERE id = ?')
  return {
    fake,
    adapter,
    endpoints: c.endpoints,
    file,
    key,
    clock,
    id,
    userId,
    initial,
    tokenCalls: () => fake.count(tokenPath, 'POST'),
    row: () => peek.get(id)!,
    expire() {
      clock.offset += 2 * 3600_000
      fake.advanceTime(2 * 3600)
    },
    async proc(options = {}) {
      const pdb = openDatabase(file)
      t.teardown(() => pdb.close())
      const prepo = createUserConnectionRepository(pdb, new Vault(key), clock.now)
      const real = await createOAuthClient({
        spec: adapter.oauth!,
        endpoints: c.endpoints,
        credentials: { id: fake.clientId, secret: fake.clientSecret },
        redirectUri: REDIRECT_URI,
        timeoutMs: options.timeoutMs ?? 5000,
        providerName: adapter.name,
        now: clock.now,
      })
      t.teardown(() => real.close())
      const client = options.wrap ? options.wrap(real) : real
      const manager = createTokenManager({
        db: pdb,
        connections: prepo,
        clientFor: async (p) => (p === adapter.id ? client : null),
        now: clock.now,
        ...(options.owner !== undefined && { owner: options.owner }),
        ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
        ...(options.pollMs !== undefined && { pollMs: options.pollMs }),
        ...(options.log && { log: options.log }),
        retryAfterMs: 5000,
      })
      return { db: pdb, repo: prepo, client, manager }
    },
  }
}

/** A TokenManagerLog that keeps what it is given. */
function memoryLog(): TokenManagerLog & { entries: { details: Record<string, unknown>; message: string }[] } {
  const entries: { details: Record<string, unknown>; message: string }[] = []
  return { entries, warn: (details, message) => entries.push({ details, message }) }
}

/** The access token works at the provider's API (identity endpoint). */
async function works(w: World, accessToken: string): Promise<boolean> {
  const res = await createApiClient(w.endpoints.apiUrl, accessToken, { timeoutMs: 2000 }).request('GET', w.endpoints.userinfoUrl)
  return res.status === 200
}

t.test('Zoom: 50 concurrent calls on an expired token make exactly one refresh', async (t) => {
  const w = await world(t, 'zoom', { tokenDelayMs: 300 })
  // pollMs 10 s: callers in this process must join the in-process flight, not poll the row.
  const p = await w.proc({ owner: 'proc-a', pollMs: 10_000 })
  const before = w.tokenCalls()
  const started = Date.now()

  const calls = Array.from({ length: 50 }, () => p.manager.accessToken(w.id))
  // Inside the fake's delay window: the lease is ours and nothing has been stored yet.
  await sleep(150)
  t.equal(w.row().refresh_lease_owner, 'proc-a', 'the lease is held while the token endpoint answers')
  t.ok(w.row().refresh_lease_until > w.clock.now())
  t.equal(p.repo.readTokens(w.id)?.refreshToken, w.initial.refreshToken, 'not stored before the answer')
  const tokens = await Promise.all(calls)
  t.ok(Date.now() - started < 3000, 'all answered when the one refresh did (single flight, no polling)')

  t.equal(w.tokenCalls() - before, 1, 'exactly one refresh request reached the token endpoint')
  t.equal(new Set(tokens).size, 1, 'all 50 got the same token')
  t.equal(tokens[0], w.fake.issued.accessTokens.at(-1), "it is the fake's newest access token")
  t.not(tokens[0], w.initial.accessToken)
  t.equal(p.repo.readTokens(w.id)?.refreshToken, w.fake.issued.refreshTokens.at(-1), 'the rotated refresh token is stored')
  t.match(w.row(), { version: 2, status: 'connected', refresh_lease_until: 0, refresh_lease_owner: '' })
  t.ok(await works(w, tokens[0]!), 'the new token works at the API')

  // A valid token is handed out without another request.
  t.equal(await p.manager.accessToken(w.id), tokens[0])
  t.equal(w.tokenCalls() - before, 1)

  // Later: the family was not revoked, so the next refresh succeeds too.
  w.expire()
  const later = await p.manager.accessToken(w.id)
  t.not(later, tokens[0])
  t.equal(w.tokenCalls() - before, 2)
  t.ok(await works(w, later), 'the connection still works')
  t.match(w.row(), { version: 3, status: 'connected' })
})

t.test('Zoom: two processes, 25 calls each, still one refresh', async (t) => {
  const w = await world(t, 'zoom', { tokenDelayMs: 300 })
  const a = await w.proc({ owner: 'proc-a' })
  const b = await w.proc({ owner: 'proc-b' })
  t.not(a.db, b.db, 'two better-sqlite3 connections to the same file')
  const before = w.tokenCalls()
  const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).manager.accessToken(w.id)))
  t.equal(w.tokenCalls() - before, 1, 'exactly one refresh request')
  t.equal(new Set(tokens).size, 1, 'both processes hand out the same token')
  t.equal(tokens[0], w.fake.issued.accessTokens.at(-1))
  t.equal(b.repo.readTokens(w.id)?.refreshToken, w.fake.issued.refreshTokens.at(-1))
  t.match(w.row(), { version: 2, status: 'connected', refresh_lease_owner: '' })

  // And again, the other way round: the family is alive.
  w.expire()
  const again = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).manager.accessToken(w.id)))
  t.equal(w.tokenCalls() - before, 2)
  t.equal(new Set(again).size, 1)
  t.ok(await works(w, again[0]!))
})

t.test('the rotated refresh token is stored before the access token is handed out; no transaction spans the call', async (t) => {
  const w = await world(t, 'zoom')
  let rotated: string | null = null
  const seen: boolean[] = []
  const p = await w.proc({
    wrap: (real) => ({
      ...real,
      async refresh(rt) {
        seen.push(p.db.inTransaction)
        const result = await real.refresh(rt)
        rotated = result.tokens.refreshToken
        return result
      },
    }),
  })
  let storedWhenResolved: string | null | undefined
  const token = await p.manager.accessToken(w.id).then((value) => {
    storedWhenResolved = p.repo.readTokens(w.id)?.refreshToken
    return value
  })
  t.ok(rotated)
  t.not(rotated, w.initial.refreshToken, 'Zoom rotated the refresh token')
  t.equal(storedWhenResolved, rotated, 'already stored when the promise resolved')
  t.equal(storedWhenResolved, w.fake.issued.refreshTokens.at(-1))
  t.same(seen, [false], 'the HTTP call ran outside any transaction')
  t.ok(await works(w, token))
})

t.test("Google: a refresh without refresh_token keeps the old one; a second refresh works", async (t) => {
  const w = await world(t, 'google')
  const p = await w.proc()
  const before = w.tokenCalls()
  const first = await p.manager.accessToken(w.id)
  t.equal(w.tokenCalls() - before, 1)
  const last = w.fake.requests.filter((r) => r.path === '/token').at(-1)
  t.match(last?.body, { grant_type: 'refresh_token', refresh_token: w.initial.refreshToken })
  t.equal(w.fake.issued.refreshTokens.length, 1, 'Google handed out no new refresh token')
  t.equal(p.repo.readTokens(w.id)?.refreshToken, w.initial.refreshToken, 'the old refresh token is kept')
  t.ok(await works(w, first))

  w.expire()
  const second = await p.manager.accessToken(w.id)
  t.not(second, first)
  t.equal(w.tokenCalls() - before, 2, 'the second refresh used the kept refresh token')
  t.equal(p.repo.readTokens(w.id)?.refreshToken, w.initial.refreshToken)
  t.ok(await works(w, second))
  t.match(w.row(), { version: 3, status: 'connected' })
})

t.test('invalid_grant: needs_reconnect and reauth; a later connect clears it', async (t) => {
  const w = await world(t, 'zoom')
  const p = await w.proc()
  w.fake.revokeAll()
  const before = w.tokenCalls()
  await rejectsWith(t, p.manager.accessToken(w.id), 'reauth', 'revoked at the provider')
  t.match(w.row(), { status: 'needs_reconnect', status_reason: 'invalid_grant', refresh_lease_until: 0, refresh_lease_owner: '' })
  t.equal(w.tokenCalls() - before, 1)
  await rejectsWith(t, p.manager.accessToken(w.id), 'reauth', 'still flagged')
  await rejectsWith(t, p.manager.refreshAfterRejection(w.id, w.initial.accessToken), 'reauth', 'still flagged after a 401')
  t.equal(w.tokenCalls() - before, 1, 'a flagged connection does not call the token endpoint')

  // Reconnect: same row, flag cleared, and refreshing works again.
  const c = await connect(w.fake, zoomProvider)
  const r = c.tokenResponse
  const fresh: TokenSet = { accessToken: String(r.access_token), refreshToken: String(r.refresh_token), expiresAt: w.clock.now() + 3600_000, scope: String(r.scope) }
  const again = p.repo.connect({ userId: w.userId, provider: 'zoom', accountId: 'acc-1', accountName: 'Ann', accountEmail: '', grantedScope: '', tokens: fresh })
  t.equal(again.id, w.id, 'the same connection')
  t.match(w.row(), { status: 'connected', status_reason: '' })
  t.equal(await p.manager.accessToken(w.id), fresh.accessToken, 'the new token is valid as it is')
  const refreshed = await p.manager.refreshAfterRejection(w.id, fresh.accessToken)
  t.not(refreshed, fresh.accessToken)
  t.ok(await works(w, refreshed))
})

t.test("Webex: an expired or revoked refresh token, in Webex's own error shape, asks for reconnection", async (t) => {
  // Webex answers {message, errors, trackingId} (no RFC 6749 `error`): it was read as a plain refusal, each meeting
  // was marked failed, and the connection stayed "connected".
  for (const [how, knobs] of [['revoked', {}], ['expired', { tokenError: 'invalid_grant' as const }]] as const) {
    await t.test(how, async (t) => {
      const w = await world(t, 'webex')
      const p = await w.proc()
      if (how === 'revoked') w.fake.revokeAll()
      else Object.assign(w.fake.knobs, knobs)
      await rejectsWith(t, p.manager.accessToken(w.id), 'reauth', 'a dead grant means: sign in again')
      t.match(w.row(), { status: 'needs_reconnect', status_reason: 'invalid_grant' })
    })
  }
})

t.test('invalid_grant after a peer refreshed: the peer stored tokens are used', async (t) => {
  const w = await world(t, 'zoom')
  const peer = await w.proc({ owner: 'peer' })
  let peerToken = ''
  const p = await w.proc({
    owner: 'me',
    wrap: (real) => ({
      ...real,
      async refresh(rt) {
        // While our request is on its way, a peer (whose lease had run out) refreshes and stores first...
        const version = peer.repo.get(w.id)!.version
        const done = await peer.client.refresh(rt)
        peerToken = done.tokens.accessToken
        t.ok(peer.repo.storeRefreshedTokens(w.id, version, done.tokens), 'the peer stored its tokens')
        // ...so the provider refuses our (now spent) refresh token.
        Object.assign(w.fake.knobs, { tokenError: 'invalid_grant', tokenFaultCount: 1 })
        return real.refresh(rt)
      },
    }),
  })
  const token = await p.manager.accessToken(w.id)
  t.equal(token, peerToken, "the peer's token")
  t.match(w.row(), { status: 'connected', version: 2, refresh_lease_owner: '' })
  t.ok(await works(w, token))
})

t.test('token endpoint unavailable: retry, lease released, still connected, one request', async (t) => {
  t.test('503', async (t) => {
    const w = await world(t, 'zoom', { tokenStatus5xx: 503 })
    const log = memoryLog()
    const p = await w.proc({ log })
    const before = w.tokenCalls()
    const error = await rejectsWith(t, p.manager.accessToken(w.id), 'retry', '503')
    t.equal(error.details.retryAfterMs, 5000)
    t.equal(error.details.status, 503)
    // The message is the user's reason in English (a meeting's "Video link pending: …"); the connection id goes to the log.
    t.equal(error.message, 'Zoom answered with a server error, HTTP 503', 'a plain reason, the status said once, no internal prefix')
    t.same(error.reason, { code: 'server_error', provider: 'Zoom', status: 503 }, "the OAuth client's reason is passed on, for the user's language")
    t.match(log.entries, [{ details: { connectionId: w.id, reason: error.message } }], 'the log names the connection')
    t.equal(w.tokenCalls() - before, 1, 'no second request by the same call')
    t.match(w.row(), { status: 'connected', version: 1, refresh_lease_until: 0, refresh_lease_owner: '' })
    w.fake.reset()
    w.fake.knobs.tokenStatus5xx = null
    const token = await p.manager.accessToken(w.id)
    t.ok(await works(w, token), 'the next call may try again, and succeeds')
    t.equal(w.tokenCalls() - before, 2)
  })

  t.test('no answer before the timeout; the lost rotation then reads as invalid_grant', async (t) => {
    const w = await world(t, 'zoom', { tokenDelayMs: 600 })
    const p = await w.proc({ timeoutMs: 200 })
    const before = w.tokenCalls()
    const timedOut = await rejectsWith(t, p.manager.accessToken(w.id), 'retry', 'timeout')
    t.equal(timedOut.message, 'Zoom did not answer within 0.2 seconds')
    t.match(w.row(), { status: 'connected', version: 1, refresh_lease_until: 0, refresh_lease_owner: '' })
    await sleep(700)
    t.equal(w.tokenCalls() - before, 1, 'not retried blindly')
    // The fake did rotate (the answer was lost): the stored refresh token is spent.
    w.fake.knobs.tokenDelayMs = 0
    const spent = await rejectsWith(t, p.manager.accessToken(w.id), 'reauth', 'the next call')
    t.equal(spent.message, 'the provider no longer accepts the sign-in', 'said in plain words, without the connection id')
    t.same(spent.reason, { code: 'sign_in_expired' }, 'as a structured reason')
    t.match(w.row(), { status: 'needs_reconnect', status_reason: 'invalid_grant' })
    t.equal(w.tokenCalls() - before, 2)
  })

  t.test('a waiting process does not pile on when the holder failed', async (t) => {
    const w = await world(t, 'zoom', { tokenDelayMs: 300, tokenStatus5xx: 503 })
    const a = await w.proc({ owner: 'proc-a' })
    const b = await w.proc({ owner: 'proc-b' })
    const before = w.tokenCalls()
    const results = await Promise.allSettled([a.manager.accessToken(w.id), b.manager.accessToken(w.id)])
    t.same(results.map((r) => r.status), ['rejected', 'rejected'])
    for (const r of results) if (r.status === 'rejected') t.match(r.reason, { name: 'ProviderError', kind: 'retry' })
    t.equal(w.tokenCalls() - before, 1, 'one request for both processes')
    t.match(w.row(), { status: 'connected', refresh_lease_owner: '' })
  })
})

t.test('a lease left by a crashed process is taken over once it runs out', async (t) => {
  const w = await world(t, 'zoom')
  const p = await w.proc({ leaseMs: 2000, pollMs: 50 })
  p.db.prepare("UPDATE user_connections SET refresh_lease_until = ?, refresh_lease_owner = 'ghost' WHERE id = ?").run(w.clock.now() + 300, w.id)
  const before = w.tokenCalls()
  const started = Date.now()
  const token = await p.manager.accessToken(w.id)
  t.ok(Date.now() - started >= 250, 'waited for the lease to run out')
  t.equal(w.tokenCalls() - before, 1)
  t.ok(await works(w, token))
})

t.test('refreshAfterRejection refreshes only when the stored token is the rejected one', async (t) => {
  const w = await world(t, 'zoom', { tokenDelayMs: 100 })
  const p = await w.proc()
  const before = w.tokenCalls()
  const first = await p.manager.accessToken(w.id)
  t.equal(await p.manager.refreshAfterRejection(w.id, w.initial.accessToken), first, 'someone refreshed meanwhile: no request')
  t.equal(w.tokenCalls() - before, 1)
  const after401 = await Promise.all(Array.from({ length: 10 }, () => p.manager.refreshAfterRejection(w.id, first)))
  t.equal(new Set(after401).size, 1)
  t.not(after401[0], first)
  t.equal(w.tokenCalls() - before, 2, 'ten 401s, one refresh')
  t.ok(await works(w, after401[0]!))
})

t.test('unreadable tokens, no refresh token, missing client: no request, no 500', async (t) => {
  const w = await world(t, 'zoom')
  const p = await w.proc()
  const before = w.tokenCalls()

  const sealed = p.db.prepare<[number], string>('SELECT tokens_enc FROM user_connections WHERE id = ?').pluck().get(w.id)!
  p.db.prepare('UPDATE user_connections SET tokens_enc = ? WHERE id = ?').run(sealed.slice(0, -3) + (sealed.endsWith('AAA') ? 'BBB' : 'AAA'), w.id)
  await rejectsWith(t, p.manager.accessToken(w.id), 'reauth', 'damaged tokens')
  t.match(w.row(), { status: 'needs_reconnect', status_reason: 'unreadable' })

  p.repo.connect({ userId: w.userId, provider: 'zoom', accountId: 'acc-1', accountName: 'Ann', accountEmail: '', grantedScope: '', tokens: { ...w.initial, refreshToken: null } })
  await rejectsWith(t, p.manager.accessToken(w.id), 'reauth', 'expired without a refresh token')
  t.match(w.row(), { status: 'needs_reconnect', status_reason: 'no_refresh_token' })

  const google = p.repo.connect({ userId: w.userId, provider: 'google-meet', accountId: 'g', accountName: 'Ann', accountEmail: '', grantedScope: '', tokens: w.initial })
  await rejectsWith(t, p.manager.accessToken(google.id), 'fail', 'provider not set up')
  t.match(p.repo.get(google.id), { status: 'connected' })
  await rejectsWith(t, p.manager.accessToken(9999), 'reauth', 'removed connection')
  t.equal(w.tokenCalls() - before, 0)
})
