import crypto from 'node:crypto'
import type { Db } from '../db/database.js'
import type { UserConnection, UserConnectionRepository } from '../db/repositories/user-connections.js'
import { OAuthError, type OAuthClient, type TokenSet } from './oauth-client.js'
import { ProviderError } from '../providers/contract.js'
import type { Reason } from '../providers/reason.js'

export interface TokenManagerOptions {
  db: Db
  connections: UserConnectionRepository
  /** The OAuth client of a provider, or null when the provider is not set up (no client credentials). */
  clientFor: (provider: string) => Promise<OAuthClient | null>
  now?: () => number
  /**
   * How long a refresh may hold the connection's lease (any process). Must be longer than the OAuth
   * client's HTTP timeout, or a slow refresh could be joined by a second one spending the same token.
   */
  leaseMs?: number
  /** Refresh an access token that expires within this many milliseconds. */
  refreshSkewMs?: number
  /** Names this manager in refresh_lease_owner; random by default (one per process). */
  owner?: string
  /** How often a caller waiting for another process's refresh looks at the row again. */
  pollMs?: number
  /** retryAfterMs of the ProviderError('retry') thrown when the token endpoint is unavailable. */
  retryAfterMs?: number
  /**
   * Where failed refreshes are logged with their connection id and the underlying error. The errors' messages
   * are read by users (a meeting's pending reason, its history), so they carry no ids or internals.
   */
  log?: TokenManagerLog
}

/** The part of a pino/Fastify logger the token manager uses. */
export interface TokenManagerLog {
  warn(details: Record<string, unknown>, message: string): void
}

export interface TokenManager {
  /** A valid access token, refreshed first when it expires within refreshSkewMs. */
  accessToken(connectionId: number): Promise<string>
  /**
   * After the API answered 401 to `rejectedAccessToken`: a new token, refreshed unless the stored one
   * already differs (someone refreshed meanwhile).
   */
  refreshAfterRejection(connectionId: number, rejectedAccessToken: string): Promise<string>
}

type Good = (tokens: TokenSet) => boolean
type Spent = { kind: 'token'; token: string } | { kind: 'changed' }

interface LeaseRow {
  version: number
  status: string
  refresh_lease_until: number
  refresh_lease_owner: string
}

/** How many times one refresh re-reads the row after it changed under it, before giving up (retry). */
const MAX_ROUNDS = 5
/** OAuth error codes (besides invalid_grant) that mean the user must sign in again. */
const REAUTH_CODES = new Set(['interaction_required', 'consent_required', 'login_required'])

/** What the user reads (meeting history) for a connection's status_reason; the code itself goes to the log. */
const STATUS_REASONS: Record<string, Reason> = {
  invalid_grant: { code: 'sign_in_expired' },
  no_refresh_token: { code: 'no_refresh_token' },
  unreadable: { code: 'sign_in_unreadable' },
  interaction_required: { code: 'sign_in_again' },
  consent_required: { code: 'sign_in_again' },
  login_required: { code: 'sign_in_again' },
}
const REMOVED: Reason = { code: 'connection_removed' }
const statusReason = (code: string): Reason => STATUS_REASONS[code] ?? { code: 'sign_in_renew' }

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Access tokens of users' own connections, refreshed at most once at a time per connection, across
 * processes: an in-process single flight (one promise per connection) plus a lease on the row in SQLite.
 * Zoom rotates refresh tokens and revokes the whole token family when a spent one is presented again, so
 * two refreshes racing with the same refresh token would kill the connection.
 *
 * A refresh: take the lease (UPDATE … WHERE refresh_lease_until < now) → call the token endpoint with no
 * transaction open → store with compare-and-swap on `version` (clears the lease) → only then hand out the
 * new access token. A caller that cannot get the lease polls the row until its version changes.
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const { db, connections, clientFor } = options
  const now = options.now ?? Date.now
  const leaseMs = options.leaseMs ?? 30_000
  const refreshSkewMs = options.refreshSkewMs ?? 60_000
  const owner = options.owner ?? crypto.randomBytes(9).toString('base64url')
  const pollMs = options.pollMs ?? 100
  const retryAfterMs = options.retryAfterMs ?? 30_000

  const acquireLease = db.prepare<[number, string, number, number], { version: number }>(
    'UPDATE user_connections SET refresh_lease_until = ?, refresh_lease_owner = ? WHERE id = ? AND refresh_lease_until < ? RETURNING version',
  )
  const releaseLease = db.prepare<[number, string]>("UPDATE user_connections SET refresh_lease_until = 0, refresh_lease_owner = '' WHERE id = ? AND refresh_lease_owner = ?")
  const peek = db.prepare<[number], LeaseRow>('SELECT version, status, refresh_lease_until, refresh_lease_owner FROM user_connections WHERE id = ?')

  const inFlight = new Map<number, Promise<string>>()

  const log = options.log

  /**
   * `why` is what the user reads (a reason, or a message where the OAuth error had no reason); the connection id
   * and the cause go to the log (unless `quiet`: a connection that was already flagged, asked for again).
   */
  function reauth(id: number, why: Reason, cause?: unknown, quiet = false): ProviderError {
    const error = new ProviderError('reauth', why)
    if (!quiet) log?.warn({ connectionId: id, reason: error.message, ...(cause !== undefined && { err: cause }) }, 'the connection needs a new sign-in')
    if (cause !== undefined) error.cause = cause
    return error
  }
  function retry(id: number, why: Reason | string, cause?: unknown, status?: number): ProviderError {
    const error = new ProviderError('retry', why, { retryAfterMs, ...(status !== undefined && { status }) })
    log?.warn({ connectionId: id, reason: error.message, ...(cause !== undefined && { err: cause }) }, 'refreshing the connection did not succeed; retried later')
    if (cause !== undefined) error.cause = cause
    return error
  }
  const fresh: Good = (tokens) => tokens.expiresAt === null || tokens.expiresAt - now() > refreshSkewMs

  /** The connection and its readable tokens, or a reauth error (gone, needs_reconnect, unreadable). */
  function usable(id: number): { connection: UserConnection; tokens: TokenSet } {
    const snap = connections.snapshot(id)
    if (!snap) throw reauth(id, REMOVED)
    if (snap.connection.status !== 'connected') throw reauth(id, statusReason(snap.connection.statusReason), undefined, true)
    if (!snap.tokens) throw reauth(id, statusReason('unreadable'))
    return { connection: snap.connection, tokens: snap.tokens }
  }

  function singleFlight(id: number, good: Good): Promise<string> {
    const existing = inFlight.get(id)
    if (existing) return existing
    const flight = refresh(id, good).finally(() => {
      if (inFlight.get(id) === flight) inFlight.delete(id)
    })
    inFlight.set(id, flight)
    return flight
  }

  async function refresh(id: number, good: Good): Promise<string> {
    const client = await clientFor(usable(id).connection.provider)
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Read again every round: another process may have refreshed, reconnected or flagged the row.
      const { connection, tokens } = usable(id)
      if (good(tokens)) return tokens.accessToken
      if (!tokens.refreshToken) {
        if (connections.markNeedsReconnect(id, 'no_refresh_token', { ifVersion: connection.version })) throw reauth(id, statusReason('no_refresh_token'))
        continue
      }
      if (!client) {
        log?.warn({ connectionId: id, provider: connection.provider }, 'the provider has no client credentials')
        throw new ProviderError('fail', { code: 'not_set_up' })
      }
      const lease = acquireLease.get(now() + leaseMs, owner, id, now())
      if (!lease) {
        await waitForPeer(id, connection.version)
        continue
      }
      if (lease.version !== connection.version) {
        // Someone stored new tokens between our read and the lease: look again.
        releaseLease.run(id, owner)
        continue
      }
      let spent: Spent
      try {
        spent = await spend(client, connection, tokens.refreshToken)
      } catch (error) {
        releaseLease.run(id, owner)
        throw error
      }
      if (spent.kind === 'token') return spent.token
    }
    throw retry(id, { code: 'renew_conflict' })
  }

  /** One refresh request with the lease held. Never retried here: an answer may have been lost. */
  async function spend(client: OAuthClient, connection: UserConnection, refreshToken: string): Promise<Spent> {
    const id = connection.id
    let result: Awaited<ReturnType<OAuthClient['refresh']>>
    try {
      result = await client.refresh(refreshToken)
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error
      if (error.kind === 'invalid_grant' || (error.kind === 'refused' && REAUTH_CODES.has(error.details.error ?? ''))) {
        // A peer may have spent the token and stored its result meanwhile (rotation): then use its token.
        const current = peek.get(id)
        if (!current) throw reauth(id, REMOVED)
        if (current.version === connection.version && connections.markNeedsReconnect(id, error.details.error ?? 'invalid_grant', { ifVersion: connection.version })) {
          throw reauth(id, statusReason(error.details.error ?? 'invalid_grant'), error)
        }
        releaseLease.run(id, owner)
        return { kind: 'changed' }
      }
      releaseLease.run(id, owner)
      // The OAuth client's reason is already the user's ("Zoom did not answer within 10 seconds").
      if (error.kind === 'unavailable') throw retry(id, error.reason ?? error.message, error, error.details.status)
      log?.warn({ connectionId: id, err: error }, 'the token endpoint refused the refresh')
      const details = { ...(error.details.status !== undefined && { status: error.details.status }), ...(error.details.error && { code: error.details.error }) }
      const failure = new ProviderError('fail', error.message, details, error.reason)
      failure.cause = error
      throw failure
    }
    // A response without a refresh token (Google) keeps the one we had.
    const tokens: TokenSet = { ...result.tokens, refreshToken: result.tokens.refreshToken ?? refreshToken }
    // Stored (compare-and-swap, lease cleared) before anyone gets the new access token.
    if (connections.storeRefreshedTokens(id, connection.version, tokens) !== null) return { kind: 'token', token: tokens.accessToken }
    // The row changed meanwhile (a Reconnect, or a flag): what is stored now wins.
    releaseLease.run(id, owner)
    return { kind: 'changed' }
  }

  /** Another process holds the lease: wait (bounded by leaseMs) until the row's version changes. */
  async function waitForPeer(id: number, version: number): Promise<void> {
    const polls = Math.max(1, Math.ceil(leaseMs / pollMs))
    for (let i = 0; i < polls; i++) {
      await sleep(pollMs)
      const row = peek.get(id)
      if (!row) throw reauth(id, REMOVED)
      if (row.version !== version) return
      // Released without a change: that refresh failed (token endpoint unavailable); don't pile on.
      if (row.refresh_lease_owner === '') throw retry(id, { code: 'renew_incomplete' })
      // Its holder vanished (lease expired): the caller may take the lease over.
      if (row.refresh_lease_until < now()) return
    }
    throw retry(id, { code: 'renew_slow' })
  }

  return {
    async accessToken(connectionId) {
      const flight = inFlight.get(connectionId)
      if (flight) return flight
      const { tokens } = usable(connectionId)
      if (fresh(tokens)) return tokens.accessToken
      return singleFlight(connectionId, fresh)
    },

    async refreshAfterRejection(connectionId, rejectedAccessToken) {
      const good: Good = (tokens) => tokens.accessToken !== rejectedAccessToken && fresh(tokens)
      const flight = inFlight.get(connectionId)
      if (flight) {
        const token = await flight
        if (token !== rejectedAccessToken) return token
      }
      const { tokens } = usable(connectionId)
      if (good(tokens)) return tokens.accessToken
      return singleFlight(connectionId, good)
    },
  }
}
