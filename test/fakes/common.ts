/**
 * Shared pieces of the provider fakes (Zoom, Microsoft, Google, Webex).
 *
 * Each fake is a Fastify 5 instance on 127.0.0.1:<random port> that reproduces one provider's OAuth
 * endpoints, identity endpoint and meeting API closely enough that the app under test can only tell it
 * apart by origin. This file holds what the four have in common:
 *   - knobs (mutable fault switches) and options,
 *   - the code / token store with token families (one authorization and everything refreshed from it),
 *   - PKCE (RFC 7636) checks, client-authentication parsing, authorize-request validation,
 *   - the request log, fault injection (delay, 5xx, 429 + Retry-After, HTML/XML/garbage bodies,
 *     socket reset), a controllable clock, the listen helper.
 *
 * Everything secret that a fake hands out carries a marker, `CANARY-<provider>-<kind>-<hex>`
 * (kinds: code, at, rt, secret, zak ...), so security tests can grep logs and the database for it.
 *
 * Generic rules implemented here and where they come from:
 *   - PKCE S256: code_challenge = BASE64URL(SHA256(code_verifier)), verifier 43..128 chars of
 *     [A-Za-z0-9-._~] (RFC 7636 §4.1, §4.2, §4.6). The fakes require S256 and refuse `plain` or a missing
 *     challenge even where a provider would accept it (Microsoft and Google accept `plain`): the app must
 *     always use S256.
 *   - Authorization codes are single use, bound to client_id and redirect_uri (RFC 6749 §4.1.3); a code
 *     presented a second time fails and revokes the tokens already issued from it (RFC 6749 §4.1.2,
 *     "SHOULD"); an assumption for every provider.
 *   - Errors about client_id / redirect_uri are shown to the user on the provider's own page and never
 *     redirected (RFC 6749 §4.1.2.1); other authorize errors are redirected with `error=` and `state=`.
 */
import Fastify from 'fastify'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import formbody from '@fastify/formbody'
import { createHash, randomBytes, randomInt } from 'node:crypto'

export type ProviderName = 'zoom' | 'microsoft' | 'google' | 'webex'

/** Endpoints a transport fault (socket reset) can target. `true` means every endpoint. */
export type FaultTarget = 'authorize' | 'token' | 'revoke' | 'userinfo' | 'api'

/** Mutable fault switches. Change them in a test; `fake.reset()` restores the starting values. */
export interface Knobs {
  // --- authorize ---
  /** The user clicks "Cancel"/"Deny": redirect with error=access_denied (+ state). */
  deny: boolean
  /** The user unticks this scope on the consent screen (or the app lacks it): the grant omits it. */
  dropScope: string | null
  /** Redirect back without `state` (a broken or hostile provider). */
  omitState: boolean
  /**
   * Microsoft: how the token response writes `scope`, in the forms Microsoft documents ("optional", names in other
   * case, or resource-prefixed as https://graph.microsoft.com/OnlineMeetings.ReadWrite): 'short' (default),
   * 'resource', 'lowercase', or 'omitted'.
   */
  tokenScopeForm: 'short' | 'resource' | 'lowercase' | 'omitted'
  /** Microsoft: the person signs in with a personal Microsoft account (MSA). See microsoft.ts. */
  personalAccount: boolean
  // --- token endpoint ---
  /** Force the token endpoint to fail with this error (provider's own shape). */
  tokenError: 'invalid_grant' | 'invalid_client' | 'consent_required' | null
  /** Force the token endpoint to answer with this 5xx status (e.g. 503). */
  tokenStatus5xx: number | null
  /** Delay every token-endpoint answer (e.g. 5000, to let two refreshes race). */
  tokenDelayMs: number
  /** Answer token requests with an HTML page (a proxy or gateway error), status tokenStatus5xx ?? 502. */
  tokenHtmlBody: boolean
  /** Answer token requests with truncated JSON, status 200. */
  tokenGarbageJson: boolean
  /** How many token requests tokenError / tokenStatus5xx / tokenHtmlBody / tokenGarbageJson / a token socket reset apply to; null = all. */
  tokenFaultCount: number | null
  // --- identity endpoint ---
  /** Microsoft: `/me` answers `mail: null` (common for accounts without Exchange). */
  mailNull: boolean
  /** The identity endpoint answers 500 in the provider's error shape. */
  userinfoFail: boolean
  // --- meeting API (not the identity endpoint) ---
  /** Every meeting-API call answers this status (429, 503, 500; Google also 403 rateLimitExceeded). */
  apiStatus: number | null
  /** Retry-After header (seconds) sent with apiStatus 429/503/423; null = no header. */
  retryAfterSeconds: number | null
  /** Delay every meeting-API answer. */
  apiDelayMs: number
  /** Answer meeting-API calls with an HTML page (a proxy or gateway error), status apiStatus ?? 502. */
  apiHtmlBody: boolean
  /** Answer meeting-API calls with an XML error document (Zoom sometimes does), status apiStatus ?? 400. */
  apiXmlBody: boolean
  /** Answer meeting-API calls with truncated JSON, status apiStatus ?? 200. */
  apiGarbageJson: boolean
  /** Treat every access token as invalid on the meeting API (revoked server-side; Zoom 124 etc.). */
  apiInvalidToken: boolean
  /** How many meeting-API calls the api* faults above apply to; null = all. */
  apiFaultCount: number | null
  // --- Google only ---
  /** Google: conference creation stays `pending` on create and for this many events.get polls. */
  pendingPolls: number
  /** Google: conference creation ends in statusCode `failure`. */
  conferenceFailure: boolean
  // --- transport ---
  /** Destroy the TCP socket without an answer, on every endpoint (true) or one kind of endpoint. */
  resetConnection: boolean | FaultTarget
}

export function defaultKnobs(): Knobs {
  return {
    deny: false,
    dropScope: null,
    tokenScopeForm: 'short',
    omitState: false,
    personalAccount: false,
    tokenError: null,
    tokenStatus5xx: null,
    tokenDelayMs: 0,
    tokenHtmlBody: false,
    tokenGarbageJson: false,
    tokenFaultCount: null,
    mailNull: false,
    userinfoFail: false,
    apiStatus: null,
    retryAfterSeconds: 1,
    apiDelayMs: 0,
    apiHtmlBody: false,
    apiXmlBody: false,
    apiGarbageJson: false,
    apiInvalidToken: false,
    apiFaultCount: null,
    pendingPolls: 0,
    conferenceFailure: false,
    resetConnection: false,
  }
}

export interface FakeOptions {
  clientId: string
  clientSecret: string
  /** Lifetime of access tokens, also sent as expires_in. */
  accessTokenTtlSeconds: number
  /** Lifetime of refresh tokens; null = no fixed expiry. */
  refreshTokenTtlSeconds: number | null
  /** Lifetime of authorization codes (Zoom 5 min, the others 10 min). */
  codeTtlSeconds: number
  /** Registered redirect URIs; null = accept any http(s) URL. */
  redirectUris: string[] | null
  /** Zoom: the scopes set on the app (returned in the token response). Others: ignored. */
  grantedScopes: string | null
  /** Microsoft: tenant segment used in the env URLs (default `organizations`). */
  tenant: string
  /** Overrides merged into the fake's signed-in identity (provider-specific field names). */
  user: Record<string, unknown>
  /** Starting knob values; reset() goes back to these. */
  knobs: Partial<Knobs>
}

export interface RecordedRequest {
  method: string
  /** Full URL path + query as received. */
  url: string
  /** Path without the query string. */
  path: string
  query: Record<string, string>
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>
  /** Parsed body: an object for form and JSON bodies, a string otherwise, undefined if none. */
  body: unknown
  at: number
}

export interface Authorization {
  /** The authorize query as received (scope, state, prompt, access_type ...). */
  query: Record<string, string>
  /** What the fake answered: 'code', an error code, or 'page' (error page, nothing sent to the app). */
  outcome: string
  grantedScope: string | null
}

export interface Issued {
  codes: string[]
  accessTokens: string[]
  refreshTokens: string[]
  /** Other secrets handed out: Zoom start_url `zak=` tokens, id_tokens. */
  other: string[]
}

export interface ProviderFake {
  provider: ProviderName
  /** http://127.0.0.1:<port> */
  url: string
  /** The app's environment variables pointing at this fake. */
  env: Record<string, string>
  clientId: string
  clientSecret: string
  knobs: Knobs
  requests: RecordedRequest[]
  /** How many requests hit a path ending with pathSuffix (optionally with this method). */
  count(pathSuffix: string, method?: string): number
  /** The meetings it holds, keyed by id, in the provider's own JSON shape. */
  meetings: Map<string, any>
  /** Every canary value handed out. */
  issued: Issued
  /** Every authorize request and its outcome, oldest first. */
  authorizations: Authorization[]
  /** The identity the next authorization signs in as (mutable; tokens keep the identity they were issued for). */
  user: Record<string, unknown>
  /** Make every access token issued so far expired. */
  expireAccessTokensNow(): void
  /** Move the fake's clock forward (codes, access and refresh tokens expire by it). */
  advanceTime(seconds: number): void
  /** Revoke every grant (the user removed the app at the provider). */
  revokeAll(): void
  /** Restore the starting knob values. */
  reset(): void
  close(): Promise<void>
  app: FastifyInstance
}

// ---------------------------------------------------------------------------------------------------
// small helpers

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex')
}

export function canary(provider: ProviderName, kind: string): string {
  return `CANARY-${provider}-${kind}-${hex(12)}`
}

export function digits(n: number): string {
  let s = String(randomInt(1, 10))
  while (s.length < n) s += String(randomInt(0, 10))
  return s
}

export function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** An unsigned-looking JWT (signature is not real). Only for id_tokens the app may decode, never verify. */
export function fakeJwt(payload: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'fake-key' }))}.${b64url(JSON.stringify(payload))}.${b64url('fake-signature')}`
}

export function splitScopes(s: string | undefined | null): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean)
}

function firstValues(obj: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!obj || typeof obj !== 'object') return out
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (Array.isArray(v)) {
      if (v.length > 0) out[k] = String(v[0])
    } else if (v !== undefined && v !== null) out[k] = String(v)
  }
  return out
}

/** The query string as a flat record (first value of repeated parameters). */
export function queryOf(req: FastifyRequest): Record<string, string> {
  return firstValues(req.query)
}

/**
 * The body as a flat record, but only when it was sent as application/x-www-form-urlencoded:
 * every token endpoint here requires a form body (RFC 6749 §4.1.3), a JSON body reads as empty.
 */
export function formOf(req: FastifyRequest): Record<string, string> {
  const ct = String(req.headers['content-type'] ?? '')
  if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) return {}
  return firstValues(req.body)
}

/** A JSON body that failed to parse (kept so handlers can answer in the provider's shape). */
export class UnparseableBody {
  constructor(public readonly raw: string) {}
}

/** A JSON object body, or null when the body is missing, not JSON, or not an object. */
export function jsonObjectOf(req: FastifyRequest): Record<string, any> | null {
  const b = req.body
  if (!b || typeof b !== 'object' || Array.isArray(b) || b instanceof UnparseableBody) return null
  return b as Record<string, any>
}

export function bearerOf(req: FastifyRequest): string | null {
  const h = String(req.headers.authorization ?? '')
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
  return m?.[1] ?? null
}

export interface ClientCredentials {
  /** Where the credentials came from. 'both' = Basic header and body secret at once. */
  method: 'basic' | 'body' | 'both' | 'none'
  clientId: string | null
  clientSecret: string | null
  basic: { id: string; secret: string } | null
  body: { id: string | null; secret: string | null }
}

/** Parse HTTP Basic (RFC 6749 §2.3.1: id and secret form-urlencoded, then base64) and body credentials. */
export function clientCredentials(req: FastifyRequest, form: Record<string, string>): ClientCredentials {
  let basic: { id: string; secret: string } | null = null
  const h = String(req.headers.authorization ?? '')
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h)
  if (m?.[1]) {
    const decoded = Buffer.from(m[1], 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    if (i >= 0) {
      const dec = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '))
        } catch {
          return s
        }
      }
      basic = { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) }
    }
  }
  const body = { id: form.client_id ?? null, secret: form.client_secret ?? null }
  const method = basic && body.secret ? 'both' : basic ? 'basic' : body.secret ? 'body' : 'none'
  return {
    method,
    clientId: basic?.id ?? body.id,
    clientSecret: basic?.secret ?? body.secret,
    basic,
    body,
  }
}

// ---------------------------------------------------------------------------------------------------
// PKCE (RFC 7636)

const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/
const CHALLENGE_RE = /^[A-Za-z0-9\-_]{43}$/

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

/** A fresh verifier/challenge pair, for tests. */
export function newPkcePair(): { verifier: string; challenge: string; method: 'S256' } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: s256(verifier), method: 'S256' }
}

export function checkPkce(verifier: string | undefined, challenge: string): 'ok' | 'missing' | 'malformed' | 'mismatch' {
  if (!verifier) return 'missing'
  if (!VERIFIER_RE.test(verifier)) return 'malformed'
  return s256(verifier) === challenge ? 'ok' : 'mismatch'
}

// ---------------------------------------------------------------------------------------------------
// clock, codes, token families

export class Clock {
  offsetMs = 0
  now(): number {
    return Date.now() + this.offsetMs
  }
}

export interface Grant {
  id: string
  clientId: string
  scope: string[]
  user: Record<string, unknown>
  /** Provider-specific facts about the authorization (tenant, personal account, access_type ...). */
  extra: Record<string, string>
  revoked: boolean
  createdAt: number
}

export interface CodeRecord {
  code: string
  clientId: string
  redirectUri: string
  challenge: string
  scope: string[]
  user: Record<string, unknown>
  extra: Record<string, string>
  expiresAt: number
  usedAt: number | null
  grantId: string | null
}

export interface TokenRecord {
  token: string
  grantId: string
  clientId: string
  expiresAt: number | null
  /** Refresh tokens only: when a rotation replaced it (Zoom). */
  supersededAt: number | null
}

export type CodeFailure = 'unknown' | 'expired' | 'reused' | 'client_mismatch' | 'redirect_mismatch' | 'pkce_missing' | 'pkce_mismatch'
export type TokenFailure = 'missing' | 'unknown' | 'expired' | 'revoked' | 'client_mismatch' | 'superseded'

export class TokenStore {
  codes = new Map<string, CodeRecord>()
  grants = new Map<string, Grant>()
  access = new Map<string, TokenRecord>()
  refresh = new Map<string, TokenRecord>()

  constructor(
    private readonly provider: ProviderName,
    private readonly clock: Clock,
    private readonly issued: Issued,
  ) {}

  issueCode(rec: Omit<CodeRecord, 'code' | 'usedAt' | 'grantId' | 'expiresAt'>, ttlSeconds: number): string {
    const code = canary(this.provider, 'code')
    this.codes.set(code, { ...rec, code, usedAt: null, grantId: null, expiresAt: this.clock.now() + ttlSeconds * 1000 })
    this.issued.codes.push(code)
    return code
  }

  /** Checks in the order a provider would; on success marks the code used and creates its grant. */
  redeemCode(
    code: string | undefined,
    p: { clientId: string; redirectUri: string | undefined; verifier: string | undefined },
  ): { ok: true; code: CodeRecord; grant: Grant } | { ok: false; reason: CodeFailure } {
    const rec = code ? this.codes.get(code) : undefined
    if (!rec) return { ok: false, reason: 'unknown' }
    if (rec.usedAt !== null) {
      // RFC 6749 §4.1.2: a reused code SHOULD revoke the tokens issued from it.
      if (rec.grantId) this.revokeGrant(rec.grantId)
      return { ok: false, reason: 'reused' }
    }
    if (rec.clientId !== p.clientId) return { ok: false, reason: 'client_mismatch' }
    if (this.clock.now() > rec.expiresAt) return { ok: false, reason: 'expired' }
    if (p.redirectUri !== rec.redirectUri) return { ok: false, reason: 'redirect_mismatch' }
    const pk = checkPkce(p.verifier, rec.challenge)
    if (pk === 'missing') return { ok: false, reason: 'pkce_missing' }
    if (pk !== 'ok') return { ok: false, reason: 'pkce_mismatch' }
    rec.usedAt = this.clock.now()
    const grant: Grant = {
      id: hex(8),
      clientId: rec.clientId,
      scope: [...rec.scope],
      user: rec.user,
      extra: { ...rec.extra },
      revoked: false,
      createdAt: this.clock.now(),
    }
    this.grants.set(grant.id, grant)
    rec.grantId = grant.id
    return { ok: true, code: rec, grant }
  }

  mintAccess(grant: Grant, ttlSeconds: number): TokenRecord {
    const rec: TokenRecord = {
      token: canary(this.provider, 'at'),
      grantId: grant.id,
      clientId: grant.clientId,
      expiresAt: this.clock.now() + ttlSeconds * 1000,
      supersededAt: null,
    }
    this.access.set(rec.token, rec)
    this.issued.accessTokens.push(rec.token)
    return rec
  }

  mintRefresh(grant: Grant, ttlSeconds: number | null): TokenRecord {
    const rec: TokenRecord = {
      token: canary(this.provider, 'rt'),
      grantId: grant.id,
      clientId: grant.clientId,
      expiresAt: ttlSeconds === null ? null : this.clock.now() + ttlSeconds * 1000,
      supersededAt: null,
    }
    this.refresh.set(rec.token, rec)
    this.issued.refreshTokens.push(rec.token)
    return rec
  }

  lookupRefresh(
    token: string | undefined,
    clientId: string,
  ): { ok: true; rec: TokenRecord; grant: Grant } | { ok: false; reason: TokenFailure; rec?: TokenRecord } {
    if (!token) return { ok: false, reason: 'missing' }
    const rec = this.refresh.get(token)
    const grant = rec ? this.grants.get(rec.grantId) : undefined
    if (!rec || !grant) return { ok: false, reason: 'unknown' }
    if (rec.clientId !== clientId) return { ok: false, reason: 'client_mismatch', rec }
    if (grant.revoked) return { ok: false, reason: 'revoked', rec }
    if (rec.supersededAt !== null) return { ok: false, reason: 'superseded', rec }
    if (rec.expiresAt !== null && this.clock.now() > rec.expiresAt) return { ok: false, reason: 'expired', rec }
    return { ok: true, rec, grant }
  }

  checkAccess(token: string | null): { ok: true; rec: TokenRecord; grant: Grant } | { ok: false; reason: TokenFailure } {
    if (!token) return { ok: false, reason: 'missing' }
    const rec = this.access.get(token)
    const grant = rec ? this.grants.get(rec.grantId) : undefined
    if (!rec || !grant) return { ok: false, reason: 'unknown' }
    if (grant.revoked) return { ok: false, reason: 'revoked' }
    if (rec.expiresAt !== null && this.clock.now() > rec.expiresAt) return { ok: false, reason: 'expired' }
    return { ok: true, rec, grant }
  }

  revokeGrant(grantId: string): void {
    const g = this.grants.get(grantId)
    if (g) g.revoked = true
  }

  /** Revoke the grant an access or refresh token belongs to. Returns the grant, or null if unknown. */
  revokeByToken(token: string | undefined): Grant | null {
    if (!token) return null
    const rec = this.access.get(token) ?? this.refresh.get(token)
    const grant = rec ? this.grants.get(rec.grantId) : undefined
    if (!grant) return null
    grant.revoked = true
    return grant
  }

  expireAllAccess(): void {
    const past = this.clock.now() - 1000
    for (const rec of this.access.values()) rec.expiresAt = past
  }
}

// ---------------------------------------------------------------------------------------------------
// the shared context and server

export interface FakeContext {
  provider: ProviderName
  opts: FakeOptions
  knobs: Knobs
  initialKnobs: Knobs
  clock: Clock
  store: TokenStore
  requests: RecordedRequest[]
  meetings: Map<string, any>
  issued: Issued
  authorizations: Authorization[]
  user: Record<string, unknown>
  /** Filled in once the server listens. */
  url: string
}

export function resolveOptions(defaults: FakeOptions, options: Partial<FakeOptions> | undefined): FakeOptions {
  const o = { ...defaults, ...(options ?? {}) }
  o.user = { ...defaults.user, ...(options?.user ?? {}) }
  o.knobs = { ...defaults.knobs, ...(options?.knobs ?? {}) }
  return o
}

/** A Fastify app with form + lenient JSON parsing and the request log; routes are added by the provider. */
export function createFake(provider: ProviderName, opts: FakeOptions): { app: FastifyInstance; ctx: FakeContext } {
  const clock = new Clock()
  const issued: Issued = { codes: [], accessTokens: [], refreshTokens: [], other: [] }
  const initialKnobs = { ...defaultKnobs(), ...opts.knobs }
  const ctx: FakeContext = {
    provider,
    opts,
    knobs: { ...initialKnobs },
    initialKnobs,
    clock,
    store: new TokenStore(provider, clock, issued),
    requests: [],
    meetings: new Map(),
    issued,
    authorizations: [],
    user: { ...opts.user },
    url: '',
  }
  issued.other.push(opts.clientSecret)

  // forceCloseConnections: close() must not wait for requests parked by a delay knob.
  // maxParamLength: Graph meeting ids are ~150 characters (Fastify's default limit is 100 → 414).
  const app = Fastify({ logger: false, forceCloseConnections: true, routerOptions: { maxParamLength: 2048 } })
  app.register(formbody)
  // JSON that fails to parse is kept as UnparseableBody so handlers answer in the provider's shape.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, JSON.parse(text))
    } catch {
      done(null, new UnparseableBody(text))
    }
  })
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))

  const recorded = new WeakMap<FastifyRequest, RecordedRequest>()
  app.addHook('onRequest', async (req) => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v)
    }
    const rec: RecordedRequest = {
      method: req.method,
      url: req.url,
      path: req.url.split('?')[0] ?? req.url,
      query: queryOf(req),
      headers,
      body: undefined,
      at: clock.now(),
    }
    ctx.requests.push(rec)
    recorded.set(req, rec)
  })
  app.addHook('preHandler', async (req) => {
    const rec = recorded.get(req)
    if (!rec) return
    rec.body = req.body instanceof UnparseableBody ? req.body.raw : req.body
  })
  app.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
    reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send({ error: 'fake_error', message: err.message ?? String(err) })
  })
  return { app, ctx }
}

export async function listen(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return address.replace('localhost', '127.0.0.1')
}

/** Listen, then wrap the context into the ProviderFake handed to tests. */
export async function finishFake(
  app: FastifyInstance,
  ctx: FakeContext,
  env: (url: string) => Record<string, string>,
): Promise<ProviderFake> {
  ctx.url = await listen(app)
  const fake: ProviderFake = {
    provider: ctx.provider,
    url: ctx.url,
    env: env(ctx.url),
    clientId: ctx.opts.clientId,
    clientSecret: ctx.opts.clientSecret,
    knobs: ctx.knobs,
    requests: ctx.requests,
    count: (suffix, method) => ctx.requests.filter((r) => r.path.endsWith(suffix) && (!method || r.method === method.toUpperCase())).length,
    meetings: ctx.meetings,
    issued: ctx.issued,
    authorizations: ctx.authorizations,
    get user() {
      return ctx.user
    },
    set user(u: Record<string, unknown>) {
      ctx.user = u
    },
    expireAccessTokensNow: () => ctx.store.expireAllAccess(),
    advanceTime: (seconds) => {
      ctx.clock.offsetMs += seconds * 1000
    },
    revokeAll: () => {
      for (const g of ctx.store.grants.values()) g.revoked = true
    },
    reset: () => {
      Object.assign(ctx.knobs, ctx.initialKnobs)
    },
    close: () => app.close(),
    app,
  }
  return fake
}

// ---------------------------------------------------------------------------------------------------
// authorize

export type AuthorizeCheck =
  /** The provider shows its own error page; nothing reaches the app. */
  | { kind: 'page'; status: number; message: string }
  /** Redirect back to the app with error= (and state=). */
  | { kind: 'redirect'; error: string; description: string }
  | { kind: 'ok'; redirectUri: string; challenge: string; requestedScope: string[] }

export function checkAuthorize(ctx: FakeContext, q: Record<string, string>, p: { scopeRequired: boolean }): AuthorizeCheck {
  if (!q.client_id) return { kind: 'page', status: 400, message: 'Missing required parameter: client_id' }
  if (q.client_id !== ctx.opts.clientId) return { kind: 'page', status: 400, message: `Invalid client_id: ${q.client_id}` }
  if (!q.redirect_uri) return { kind: 'page', status: 400, message: 'Missing required parameter: redirect_uri' }
  let parsed: URL
  try {
    parsed = new URL(q.redirect_uri)
  } catch {
    return { kind: 'page', status: 400, message: 'Invalid redirect_uri' }
  }
  if (!/^https?:$/.test(parsed.protocol)) return { kind: 'page', status: 400, message: 'Invalid redirect_uri' }
  if (ctx.opts.redirectUris && !ctx.opts.redirectUris.includes(q.redirect_uri)) {
    return { kind: 'page', status: 400, message: `redirect_uri mismatch: ${q.redirect_uri}` }
  }
  if (q.response_type !== 'code') {
    return { kind: 'redirect', error: 'unsupported_response_type', description: `response_type must be code, got ${q.response_type ?? '(none)'}` }
  }
  const requestedScope = splitScopes(q.scope)
  if (p.scopeRequired && requestedScope.length === 0) {
    return { kind: 'redirect', error: 'invalid_request', description: 'Missing required parameter: scope' }
  }
  if (!q.code_challenge) return { kind: 'redirect', error: 'invalid_request', description: 'Missing code_challenge (PKCE is required).' }
  if (q.code_challenge_method !== 'S256') {
    return { kind: 'redirect', error: 'invalid_request', description: `code_challenge_method must be S256, got ${q.code_challenge_method ?? '(none)'}` }
  }
  if (!CHALLENGE_RE.test(q.code_challenge)) return { kind: 'redirect', error: 'invalid_request', description: 'Invalid code_challenge.' }
  return { kind: 'ok', redirectUri: q.redirect_uri, challenge: q.code_challenge, requestedScope }
}

export function redirectWith(reply: FastifyReply, redirectUri: string, params: Record<string, string | undefined>): FastifyReply {
  const u = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v)
  return reply.code(302).header('location', u.toString()).header('cache-control', 'no-store').send()
}

export function errorPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c)
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html><head><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p>${esc(message)}</p></body></html>`)
}

// ---------------------------------------------------------------------------------------------------
// faults

function targets(ctx: FakeContext, t: FaultTarget): boolean {
  return ctx.knobs.resetConnection === true || ctx.knobs.resetConnection === t
}

/** Count one use of a counted fault; false once the count is used up. */
function consume(ctx: FakeContext, kind: 'api' | 'token'): boolean {
  const key = kind === 'api' ? 'apiFaultCount' : 'tokenFaultCount'
  const n = ctx.knobs[key]
  if (n === null) return true
  if (n <= 0) return false
  ctx.knobs[key] = n - 1
  return true
}

/** Destroy the socket without an answer. */
export function resetSocket(req: FastifyRequest, reply: FastifyReply): void {
  reply.hijack()
  req.raw.socket.destroy()
}

/** Socket reset for the authorize / revoke / userinfo endpoints. */
export function maybeReset(ctx: FakeContext, t: FaultTarget, req: FastifyRequest, reply: FastifyReply): boolean {
  if (!targets(ctx, t)) return false
  resetSocket(req, reply)
  return true
}

/**
 * Token-endpoint faults: delay, socket reset, HTML page, garbage JSON, 5xx; returns the forced OAuth error, if any, for the
 * provider to render in its own shape. `handled` = an answer was already sent.
 */
export async function tokenFaults(
  ctx: FakeContext,
  req: FastifyRequest,
  reply: FastifyReply,
  body5xx: (status: number) => unknown,
): Promise<{ handled: boolean; forcedError: Knobs['tokenError'] }> {
  const k = ctx.knobs
  if (k.tokenDelayMs > 0) await sleep(k.tokenDelayMs)
  if (targets(ctx, 'token') && consume(ctx, 'token')) {
    resetSocket(req, reply)
    return { handled: true, forcedError: null }
  }
  if (k.tokenHtmlBody && consume(ctx, 'token')) {
    const status = k.tokenStatus5xx ?? 502
    reply
      .code(status)
      .type('text/html')
      .send(`<html><head><title>${status} Bad Gateway</title></head><body><center><h1>${status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>`)
    return { handled: true, forcedError: null }
  }
  if (k.tokenGarbageJson && consume(ctx, 'token')) {
    reply.code(200).type('application/json').send('{"token_type": "bearer", "expires_in": 3599, "access_tok')
    return { handled: true, forcedError: null }
  }
  if (k.tokenStatus5xx !== null && consume(ctx, 'token')) {
    reply.code(k.tokenStatus5xx)
    if (k.retryAfterSeconds !== null && k.tokenStatus5xx === 503) reply.header('retry-after', String(k.retryAfterSeconds))
    reply.send(body5xx(k.tokenStatus5xx))
    return { handled: true, forcedError: null }
  }
  if (k.tokenError !== null && consume(ctx, 'token')) return { handled: false, forcedError: k.tokenError }
  return { handled: false, forcedError: null }
}

export interface ApiFaultBodies {
  /** JSON error body for apiStatus (429, 503, 500 ...). */
  status: (status: number) => unknown
  /** XML document for apiXmlBody, given the status it is sent with. */
  xml?: (status: number) => string
}

/** Meeting-API faults; true = an answer (or a reset) was already sent. */
export async function apiFaults(ctx: FakeContext, req: FastifyRequest, reply: FastifyReply, bodies: ApiFaultBodies): Promise<boolean> {
  const k = ctx.knobs
  if (k.apiDelayMs > 0) await sleep(k.apiDelayMs)
  if (targets(ctx, 'api') && consume(ctx, 'api')) {
    resetSocket(req, reply)
    return true
  }
  const faulting = k.apiStatus !== null || k.apiHtmlBody || k.apiXmlBody || k.apiGarbageJson
  if (!faulting || !consume(ctx, 'api')) return false
  if (k.apiHtmlBody) {
    const status = k.apiStatus ?? 502
    reply
      .code(status)
      .type('text/html')
      .send(`<html><head><title>${status} Bad Gateway</title></head><body><center><h1>${status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>`)
    return true
  }
  if (k.apiXmlBody) {
    const status = k.apiStatus ?? 400
    reply
      .code(status)
      .type('application/xml;charset=UTF-8')
      .send(bodies.xml?.(status) ?? `<?xml version="1.0" encoding="UTF-8"?><error><code>${status}</code><message>Error</message></error>`)
    return true
  }
  if (k.apiGarbageJson) {
    reply.code(k.apiStatus ?? 200).type('application/json').send('{"id": 81234567890, "join_url": "https://exa')
    return true
  }
  const status = k.apiStatus ?? 500
  reply.code(status)
  // Webex answers 423 Locked with Retry-After too ("the resource is being processed"; Webex API errors).
  if ((status === 429 || status === 503 || status === 423) && k.retryAfterSeconds !== null) reply.header('retry-after', String(k.retryAfterSeconds))
  reply.send(bodies.status(status))
  return true
}

/** apiInvalidToken: counted like the other api faults. */
export function forcedInvalidToken(ctx: FakeContext): boolean {
  return ctx.knobs.apiInvalidToken && consume(ctx, 'api')
}

/** Granted scope after the consent screen: dropScope removes one entry. */
export function applyDropScope(ctx: FakeContext, scopes: string[]): string[] {
  const drop = ctx.knobs.dropScope
  return drop ? scopes.filter((s) => s !== drop) : scopes
}

/** Record an authorize request and its outcome. */
export function noteAuthorize(ctx: FakeContext, q: Record<string, string>, outcome: string, grantedScope: string | null): void {
  ctx.authorizations.push({ query: q, outcome, grantedScope })
}

export function isoNoMillis(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}
