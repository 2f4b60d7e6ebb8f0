/**
 * The built-in Sandbox provider: a small but real OAuth 2.0 authorization server (authorization code + PKCE
 * S256, rotating refresh tokens, RFC 7009 revocation, RFC 9207 `iss`) and a meetings API, so the whole
 * "connect a video meeting provider" flow can be tried offline and driven end to end by browser tests.
 *
 * Registered as a plain (encapsulated) plugin: its JSON error handler and no-store hook stay inside.
 */
import crypto from 'node:crypto'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '../db/database.js'
import type { Language } from '../i18n/languages.js'
import { HttpError, NotFoundError } from '../errors.js'
import { CONTROL_CHARACTERS, isEmail, isTimeZone } from '../forms.js'
import { randomPasscode } from '../providers/settings-helpers.js'
import { deriveKey } from '../security/keys.js'
import { fill, sandboxText } from './text.js'

export const SANDBOX_CLIENT_ID = 'video-meetings-sandbox'
export const SANDBOX_SCOPES = ['profile', 'meetings'] as const
export type SandboxScope = (typeof SANDBOX_SCOPES)[number]

const CODE_TTL_MS = 60_000
const ACCESS_TOKEN_TTL_SECONDS = 3600
const REFRESH_TOKEN_TTL_MS = 90 * 24 * 3600 * 1000
const DIAL_IN_NUMBER = '+1 555 0100'

export interface SandboxOptions {
  /** The app's public URL (config.baseUrl), without a trailing slash. */
  baseUrl: string
  masterSecret: Buffer
  /** Milliseconds since the epoch; injected by tests to expire codes and tokens. */
  now?: () => number
}

export interface SandboxClient {
  id: string
  secret: string
  redirectUri: string
}

/** The `iss` the sandbox sends with every authorization response (RFC 9207). */
export function sandboxIssuer(baseUrl: string): string {
  return `${baseUrl}/sandbox`
}

/** The one client the sandbox knows: Video Meetings itself, with a secret derived from the master secret. */
export function sandboxClient(baseUrl: string, masterSecret: Buffer): SandboxClient {
  return {
    id: SANDBOX_CLIENT_ID,
    secret: deriveKey(masterSecret, 'sandbox-client-secret').toString('base64url'),
    redirectUri: `${baseUrl}/oauth/sandbox/callback`,
  }
}

/** An OAuth or API error answered as JSON `{ error, error_description }`. */
class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description ?? error)
    this.name = 'SandboxError'
  }
}

const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex')
const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url')

/** Constant-time equality of two strings of any length (compared as digests). */
function sameSecret(a: string, b: string): boolean {
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest())
}

const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/

function pkceMatches(verifier: string, challenge: string): boolean {
  return sameSecret(crypto.createHash('sha256').update(verifier).digest('base64url'), challenge)
}

// ---------------------------------------------------------------------------------------------------------
// Storage

interface CodeRow {
  client_id: string
  redirect_uri: string
  code_challenge: string
  scope: string
  account_id: string
  expires_at: number
  used_at: number | null
  family_id: string | null
}

interface TokenRow {
  token_hash: string
  kind: 'access' | 'refresh'
  family_id: string
  client_id: string
  account_id: string
  scope: string
  expires_at: number
  revoked_at: number | null
  replaced_by: string | null
}

interface AccountRow {
  id: string
  email: string
  name: string
}

interface MeetingRow {
  id: string
  account_id: string
  request_id: string | null
  title: string
  start_at: string
  end_at: string
  time_zone: string
  passcode: string
  waiting_room: number
  join_url: string
  deleted_at: number | null
}

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  scope: string
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: SandboxError }
const invalidGrant = (description: string): Outcome<never> => ({ ok: false, error: new SandboxError(400, 'invalid_grant', description) })

function createSandboxStore(db: Db, now: () => number) {
  const statements = {
    accountByEmail: db.prepare<[string], AccountRow>('SELECT id, email, name FROM sandbox_accounts WHERE email = ?'),
    accountById: db.prepare<[string], AccountRow>('SELECT id, email, name FROM sandbox_accounts WHERE id = ?'),
    insertAccount: db.prepare('INSERT INTO sandbox_accounts (id, email, name, created_at) VALUES (?, ?, ?, ?)'),
    renameAccount: db.prepare('UPDATE sandbox_accounts SET name = ? WHERE id = ?'),
    insertCode: db.prepare(
      'INSERT INTO sandbox_authorization_codes (code_hash, client_id, redirect_uri, code_challenge, scope, account_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    sweepCodes: db.prepare('DELETE FROM sandbox_authorization_codes WHERE expires_at < ?'),
    codeByHash: db.prepare<[string], CodeRow>(
      'SELECT client_id, redirect_uri, code_challenge, scope, account_id, expires_at, used_at, family_id FROM sandbox_authorization_codes WHERE code_hash = ?',
    ),
    useCode: db.prepare('UPDATE sandbox_authorization_codes SET used_at = ?, family_id = ? WHERE code_hash = ?'),
    insertToken: db.prepare(
      'INSERT INTO sandbox_tokens (token_hash, kind, family_id, client_id, account_id, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    sweepTokens: db.prepare('DELETE FROM sandbox_tokens WHERE expires_at < ?'),
    tokenByHash: db.prepare<[string], TokenRow>(
      'SELECT token_hash, kind, family_id, client_id, account_id, scope, expires_at, revoked_at, replaced_by FROM sandbox_tokens WHERE token_hash = ?',
    ),
    rotateToken: db.prepare('UPDATE sandbox_tokens SET revoked_at = ?, replaced_by = ? WHERE token_hash = ?'),
    revokeToken: db.prepare('UPDATE sandbox_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_hash = ?'),
    revokeFamily: db.prepare('UPDATE sandbox_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE family_id = ?'),
    meetingById: db.prepare<[string], MeetingRow>('SELECT * FROM sandbox_meetings WHERE id = ?'),
    meetingByRequest: db.prepare<[string, string], MeetingRow>('SELECT * FROM sandbox_meetings WHERE account_id = ? AND request_id = ?'),
    insertMeeting: db.prepare(
      `INSERT INTO sandbox_meetings (id, account_id, request_id, title, start_at, end_at, time_zone, passcode, waiting_room, join_url, created_at, updated_at)
       VALUES (@id, @account_id, @request_id, @title, @start_at, @end_at, @time_zone, @passcode, @waiting_room, @join_url, @now, @now)`,
    ),
    updateMeeting: db.prepare(
      `UPDATE sandbox_meetings SET title = @title, start_at = @start_at, end_at = @end_at, time_zone = @time_zone, passcode = @passcode,
       waiting_room = @waiting_room, updated_at = @now WHERE id = @id AND deleted_at IS NULL`,
    ),
    deleteMeeting: db.prepare('UPDATE sandbox_meetings SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL'),
  }

  /** A new access + refresh token pair in a family; only their hashes are stored. */
  function issueTokens(familyId: string, clientId: string, accountId: string, scope: string): { response: TokenResponse; refreshHash: string } {
    const t = now()
    const accessToken = `sbx_at_${randomToken()}`
    const refreshToken = `sbx_rt_${randomToken()}`
    const refreshHash = sha256(refreshToken)
    statements.sweepTokens.run(t - 24 * 3600 * 1000)
    statements.insertToken.run(sha256(accessToken), 'access', familyId, clientId, accountId, scope, t, t + ACCESS_TOKEN_TTL_SECONDS * 1000)
    statements.insertToken.run(refreshHash, 'refresh', familyId, clientId, accountId, scope, t, t + REFRESH_TOKEN_TTL_MS)
    return {
      refreshHash,
      response: { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS, refresh_token: refreshToken, scope },
    }
  }

  return {
    /** The account for this email, created on first use; the display name follows what was typed last. */
    signIn(email: string, name: string): AccountRow {
      return db.transaction(() => {
        const existing = statements.accountByEmail.get(email)
        if (existing) {
          if (existing.name !== name) statements.renameAccount.run(name, existing.id)
          return { ...existing, name }
        }
        const account = { id: randomToken(16), email, name }
        statements.insertAccount.run(account.id, email, name, now())
        return account
      }).immediate()
    },

    account(id: string): AccountRow | undefined {
      return statements.accountById.get(id)
    },

    issueCode(grant: { clientId: string; redirectUri: string; codeChallenge: string; scope: string; accountId: string }): string {
      const code = randomToken()
      const t = now()
      statements.sweepCodes.run(t - 3600 * 1000)
      statements.insertCode.run(sha256(code), grant.clientId, grant.redirectUri, grant.codeChallenge, grant.scope, grant.accountId, t + CODE_TTL_MS)
      return code
    },

    /** Single use: a second redemption fails and revokes every token the first one produced. */
    redeemCode(code: string, request: { clientId: string; redirectUri: string | undefined; verifier: string }): Outcome<TokenResponse> {
      const codeHash = sha256(code)
      return db.transaction((): Outcome<TokenResponse> => {
        const t = now()
        const row = statements.codeByHash.get(codeHash)
        if (!row) return invalidGrant('the authorization code is not valid')
        if (row.used_at !== null) {
          if (row.family_id) statements.revokeFamily.run(t, row.family_id)
          return invalidGrant('the authorization code was already used; the tokens issued for it are revoked')
        }
        if (row.expires_at <= t) return invalidGrant('the authorization code has expired')
        if (row.client_id !== request.clientId) return invalidGrant('the authorization code was issued to another client')
        if (row.redirect_uri !== request.redirectUri) return invalidGrant('redirect_uri does not match the authorization request')
        // A wrong verifier does not use up the code: the legitimate client can still redeem it.
        if (!pkceMatches(request.verifier, row.code_challenge)) return invalidGrant('code_verifier does not match the code_challenge')
        const familyId = randomToken(16)
        statements.useCode.run(t, familyId, codeHash)
        return { ok: true, value: issueTokens(familyId, row.client_id, row.account_id, row.scope).response }
      }).immediate()
    },

    /** Rotation: the old refresh token dies at once; presenting a rotated one again revokes the family. */
    refresh(refreshToken: string, request: { clientId: string; scope: string[] | null }): Outcome<TokenResponse> {
      const tokenHash = sha256(refreshToken)
      return db.transaction((): Outcome<TokenResponse> => {
        const t = now()
        const row = statements.tokenByHash.get(tokenHash)
        if (!row || row.kind !== 'refresh') return invalidGrant('the refresh token is not valid')
        if (row.client_id !== request.clientId) return invalidGrant('the refresh token was issued to another client')
        if (row.revoked_at !== null) {
          if (row.replaced_by !== null) {
            statements.revokeFamily.run(t, row.family_id)
            return invalidGrant('the refresh token was already used; every token of this grant is now revoked')
          }
          return invalidGrant('the refresh token has been revoked')
        }
        if (row.expires_at <= t) return invalidGrant('the refresh token has expired')
        const granted = row.scope.split(' ')
        if (request.scope && !request.scope.every((s) => granted.includes(s))) {
          return { ok: false, error: new SandboxError(400, 'invalid_scope', 'the requested scope exceeds the original grant') }
        }
        const scope = request.scope ? granted.filter((s) => request.scope!.includes(s)).join(' ') : row.scope
        const issued = issueTokens(row.family_id, row.client_id, row.account_id, scope)
        statements.rotateToken.run(t, issued.refreshHash, tokenHash)
        return { ok: true, value: issued.response }
      }).immediate()
    },

    /** RFC 7009: a refresh token takes its whole grant with it; an access token goes alone. */
    revoke(token: string, clientId: string): void {
      const row = statements.tokenByHash.get(sha256(token))
      if (!row || row.client_id !== clientId) return
      if (row.kind === 'refresh') statements.revokeFamily.run(now(), row.family_id)
      else statements.revokeToken.run(now(), row.token_hash)
    },

    /** The live access token's grant, or undefined. */
    accessGrant(accessToken: string): { accountId: string; scope: string[] } | undefined {
      const row = statements.tokenByHash.get(sha256(accessToken))
      if (!row || row.kind !== 'access' || row.revoked_at !== null || row.expires_at <= now()) return undefined
      return { accountId: row.account_id, scope: row.scope.split(' ') }
    },

    /** A live meeting, of the given account when one is named. */
    meeting(id: string, accountId?: string): MeetingRow | undefined {
      const row = statements.meetingById.get(id)
      if (!row || row.deleted_at !== null || (accountId !== undefined && row.account_id !== accountId)) return undefined
      return row
    },

    createMeeting(accountId: string, fields: MeetingFields, requestId: string | null, joinUrl: (id: string) => string): { created: boolean; row: MeetingRow } | 'conflict' {
      return db.transaction(() => {
        if (requestId !== null) {
          const existing = statements.meetingByRequest.get(accountId, requestId)
          if (existing) return existing.deleted_at === null ? { created: false, row: existing } : ('conflict' as const)
        }
        const id = randomToken(16)
        statements.insertMeeting.run({ id, account_id: accountId, request_id: requestId, ...columns(fields), join_url: joinUrl(id), now: now() })
        return { created: true, row: statements.meetingById.get(id)! }
      }).immediate()
    },

    updateMeeting(id: string, fields: MeetingFields): MeetingRow | undefined {
      statements.updateMeeting.run({ id, ...columns(fields), now: now() })
      return statements.meetingById.get(id)
    },

    deleteMeeting(id: string): void {
      statements.deleteMeeting.run(now(), now(), id)
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// Meetings: validation and the JSON shape

interface MeetingFields {
  title: string
  start: string
  end: string
  timeZone: string
  passcode: string
  waitingRoom: boolean
}

function columns(fields: MeetingFields) {
  return {
    title: fields.title,
    start_at: fields.start,
    end_at: fields.end,
    time_zone: fields.timeZone,
    passcode: fields.passcode,
    waiting_room: fields.waitingRoom ? 1 : 0,
  }
}

function fieldsOf(row: MeetingRow): MeetingFields {
  return { title: row.title, start: row.start_at, end: row.end_at, timeZone: row.time_zone, passcode: row.passcode, waitingRoom: row.waiting_room === 1 }
}

/** The dial-in PIN is derived from the meeting id, so it is stable without a column of its own. */
function dialInPin(id: string): string {
  return (BigInt(`0x${sha256(`pin:${id}`).slice(0, 15)}`) % 1_000_000_000n).toString().padStart(9, '0')
}

function meetingJson(row: MeetingRow) {
  return {
    id: row.id,
    title: row.title,
    start: row.start_at,
    end: row.end_at,
    timeZone: row.time_zone,
    passcode: row.passcode,
    waitingRoom: row.waiting_room === 1,
    joinUrl: row.join_url,
    dialIn: [{ number: DIAL_IN_NUMBER, pin: dialInPin(row.id) }],
  }
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i
const PASSCODE = /^[A-Za-z0-9]{1,10}$/

const badRequest = (description: string) => new SandboxError(400, 'invalid_request', description)

/** Reads a create (all required but passcode, waitingRoom) or a PATCH (each optional, merged over `base`). */
function readMeeting(body: unknown, base: MeetingFields | null): MeetingFields {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object')
  const b = body as Record<string, unknown>
  const present = (name: string) => b[name] !== undefined
  const text = (name: string, max: number): string => {
    const value = b[name]
    if (typeof value !== 'string') throw badRequest(`${name} must be a string`)
    const trimmed = value.trim()
    if (!trimmed) throw badRequest(`${name} must not be empty`)
    if (trimmed.length > max) throw badRequest(`${name} must be at most ${max} characters`)
    if (CONTROL_CHARACTERS.test(trimmed)) throw badRequest(`${name} must not contain control characters`)
    return trimmed
  }
  const dateTime = (name: string): string => {
    const value = text(name, 40)
    const ms = Date.parse(value)
    if (!DATE_TIME.test(value) || !Number.isFinite(ms)) throw badRequest(`${name} must be an ISO 8601 date-time with an offset, e.g. 2030-01-31T09:30:00Z`)
    return new Date(ms).toISOString()
  }
  const need = (name: string) => {
    if (!base && !present(name)) throw badRequest(`${name} is required`)
    return present(name)
  }
  const fields: MeetingFields = {
    title: need('title') ? text('title', 200) : base!.title,
    start: need('start') ? dateTime('start') : base!.start,
    end: need('end') ? dateTime('end') : base!.end,
    timeZone: need('timeZone') ? text('timeZone', 64) : base!.timeZone,
    passcode: present('passcode') ? text('passcode', 10) : (base?.passcode ?? randomPasscode(6, { digitsOnly: true })),
    waitingRoom: base?.waitingRoom ?? false,
  }
  if (present('waitingRoom')) {
    if (typeof b.waitingRoom !== 'boolean') throw badRequest('waitingRoom must be true or false')
    fields.waitingRoom = b.waitingRoom
  }
  if (!isTimeZone(fields.timeZone)) throw badRequest('timeZone must be an IANA time zone such as Europe/Amsterdam')
  if (!PASSCODE.test(fields.passcode)) throw badRequest('passcode must be 1 to 10 letters or digits')
  if (Date.parse(fields.end) <= Date.parse(fields.start)) throw badRequest('end must be after start')
  return fields
}

function readRequestId(body: unknown): string | null {
  const value = (body as Record<string, unknown>).requestId
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || !value || value.length > 200 || CONTROL_CHARACTERS.test(value)) throw badRequest('requestId must be a non-empty string of at most 200 characters')
  return value
}

// ---------------------------------------------------------------------------------------------------------
// The authorization request

const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'] as const
type AuthorizeParamName = (typeof AUTHORIZE_PARAMS)[number]

interface AuthorizeRequest {
  redirectUri: string
  state: string | undefined
  codeChallenge: string
  scopes: SandboxScope[]
  /** The original parameters, carried through the consent form in hidden fields. */
  params: Partial<Record<AuthorizeParamName, string>>
}

type AuthorizeCheck =
  /** Shown on the page, never redirected: the redirect URI cannot be trusted (RFC 6749 4.1.2.1). */
  | { kind: 'page'; reason: 'invalidClient' | 'invalidRedirect' }
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: string; description: string }
  | { kind: 'ok'; request: AuthorizeRequest }

function checkAuthorize(source: unknown, client: SandboxClient): AuthorizeCheck {
  const input = source && typeof source === 'object' ? (source as Record<string, unknown>) : {}
  const repeated = AUTHORIZE_PARAMS.filter((name) => Array.isArray(input[name]))
  const one = (name: AuthorizeParamName): string | undefined => (typeof input[name] === 'string' ? (input[name] as string) : undefined)
  const clientId = one('client_id')
  if (clientId === undefined || !sameSecret(clientId, client.id)) return { kind: 'page', reason: 'invalidClient' }
  const redirectUri = one('redirect_uri')
  // Exact match only, and required: the sandbox has a single registered redirect URI but still insists.
  if (redirectUri === undefined || redirectUri !== client.redirectUri) return { kind: 'page', reason: 'invalidRedirect' }

  const state = one('state')
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: 'redirect', redirectUri, state, error, description })
  if (repeated.length) return fail('invalid_request', `repeated parameter: ${repeated.join(', ')}`)
  const responseType = one('response_type')
  if (!responseType) return fail('invalid_request', 'response_type is required')
  if (responseType !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported')
  const codeChallenge = one('code_challenge')
  if (!codeChallenge) return fail('invalid_request', 'code_challenge is required (PKCE)')
  if (one('code_challenge_method') !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256')
  if (!PKCE_VALUE.test(codeChallenge)) return fail('invalid_request', 'code_challenge is malformed')
  if (state !== undefined && (state.length > 2000 || CONTROL_CHARACTERS.test(state))) return fail('invalid_request', 'state is malformed')
  const asked = (one('scope') ?? '').split(' ').filter(Boolean)
  if (!asked.length) return fail('invalid_scope', 'scope is required: profile, meetings')
  const unknown = asked.filter((s) => !(SANDBOX_SCOPES as readonly string[]).includes(s))
  if (unknown.length) return fail('invalid_scope', `unknown scope: ${unknown.join(' ')}`)
  const scopes = SANDBOX_SCOPES.filter((s) => asked.includes(s))
  const params: AuthorizeRequest['params'] = {}
  for (const name of AUTHORIZE_PARAMS) {
    const value = one(name)
    if (value !== undefined) params[name] = value
  }
  return { kind: 'ok', request: { redirectUri, state, codeChallenge, scopes, params } }
}

// ---------------------------------------------------------------------------------------------------------
// The plugin

export async function sandboxPlugin(app: FastifyInstance, options: SandboxOptions): Promise<void> {
  const now = options.now ?? Date.now
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const issuer = sandboxIssuer(baseUrl)
  const client = sandboxClient(baseUrl, options.masterSecret)
  const store = createSandboxStore(app.db, now)
  const joinUrl = (id: string) => `${baseUrl}/sandbox/meet/${id}`

  function backTo(redirectUri: string, params: Record<string, string | undefined>): string {
    const url = new URL(redirectUri)
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value)
    url.searchParams.set('iss', issuer)
    return url.href
  }

  function invalidRequestPage(request: FastifyRequest, reply: FastifyReply, reason: 'invalidClient' | 'invalidRedirect') {
    const s = sandboxText(request.language)
    return reply.render('pages/error', { title: s.invalidTitle, text: s[reason] }, { status: 400 })
  }

  function consentPage(
    request: FastifyRequest,
    reply: FastifyReply,
    authorization: AuthorizeRequest,
    form: { values: Record<string, string>; granted: readonly string[]; errors: Record<string, string>; formError?: string },
    status?: number,
  ) {
    const s = sandboxText(request.language)
    return reply.render(
      'pages/sandbox/authorize',
      {
        title: s.authorizeTitle,
        s,
        action: '/sandbox/oauth/authorize',
        hidden: Object.entries(authorization.params).map(([name, value]) => ({ name, value })),
        scopes: authorization.scopes.map((scope) => ({ value: scope, label: s[`scope_${scope}`], checked: form.granted.includes(scope) })),
        values: form.values,
        errors: form.errors,
        ...(form.formError && { formError: form.formError }),
      },
      status ? { status } : {},
    )
  }

  app.get('/sandbox/oauth/authorize', async (request, reply) => {
    const check = checkAuthorize(request.query, client)
    if (check.kind === 'page') return invalidRequestPage(request, reply, check.reason)
    if (check.kind === 'redirect') {
      return reply.redirect(backTo(check.redirectUri, { error: check.error, error_description: check.description, state: check.state }), 303)
    }
    const values = { email: request.user?.email ?? '', name: request.user?.name ?? '' }
    return consentPage(request, reply, check.request, { values, granted: check.request.scopes, errors: {} })
  })

  app.post('/sandbox/oauth/authorize', async (request, reply) => {
    const check = checkAuthorize(request.body, client)
    if (check.kind === 'page') return invalidRequestPage(request, reply, check.reason)
    if (check.kind === 'redirect') {
      return reply.redirect(backTo(check.redirectUri, { error: check.error, error_description: check.description, state: check.state }), 303)
    }
    const authorization = check.request
    const body = request.body as Record<string, unknown>
    if (body.decision === 'deny') {
      return reply.redirect(backTo(authorization.redirectUri, { error: 'access_denied', error_description: 'the person denied the request', state: authorization.state }), 303)
    }
    if (body.decision !== 'allow') throw new HttpError(400, 'decision must be allow or deny')

    const s = sandboxText(request.language)
    const errors: Record<string, string> = {}
    const read = (name: 'email' | 'name', max: number): string => {
      const raw = body[name]
      const value = typeof raw === 'string' ? raw.trim() : ''
      if (!value) errors[name] = s.errorRequired
      else if (CONTROL_CHARACTERS.test(value)) errors[name] = s.errorControlChars
      else if (value.length > max) errors[name] = fill(s.errorTooLong, { max })
      return value
    }
    const email = read('email', 254).toLowerCase()
    const name = read('name', 100)
    if (email && !errors.email && !isEmail(email)) errors.email = s.errorEmail
    const ticked = [body.grant].flat().filter((v): v is string => typeof v === 'string')
    const granted = authorization.scopes.filter((scope) => ticked.includes(scope))
    const values = { email, name }
    if (!granted.length) return consentPage(request, reply, authorization, { values, granted, errors, formError: s.errorNoScope }, 422)
    if (Object.keys(errors).length) return consentPage(request, reply, authorization, { values, granted, errors, formError: s.errorForm }, 422)

    const account = store.signIn(email, name)
    const code = store.issueCode({
      clientId: client.id,
      redirectUri: authorization.redirectUri,
      codeChallenge: authorization.codeChallenge,
      scope: granted.join(' '),
      accountId: account.id,
    })
    return reply.redirect(backTo(authorization.redirectUri, { code, state: authorization.state }), 303)
  })

  app.get('/sandbox/meet/:id', async (request, reply) => {
    const { id } = request.params as { id: string }
    const meeting = store.meeting(id)
    if (!meeting) throw new NotFoundError('No such sandbox meeting')
    const s = sandboxText(request.language)
    const when = (iso: string) => formatTime(iso, meeting.time_zone, request.language)
    return reply.render('pages/sandbox/meeting', {
      title: fill(s.meetingTitle, { title: meeting.title }),
      s,
      meeting: {
        start: meeting.start_at,
        end: meeting.end_at,
        startText: when(meeting.start_at),
        endText: when(meeting.end_at),
        timeZone: meeting.time_zone,
        waitingRoom: meeting.waiting_room === 1,
      },
    })
  })

  await app.register(async function sandboxJson(api: FastifyInstance) {
    api.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store')
      reply.header('pragma', 'no-cache')
      return payload
    })
    api.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      if (error instanceof SandboxError) {
        request.log.info({ status: error.status, reason: error.error }, 'sandbox request refused')
        return reply.code(error.status).headers(error.headers).send({ error: error.error, ...(error.description && { error_description: error.description }) })
      }
      const status = typeof (error as FastifyError)?.statusCode === 'number' ? (error as FastifyError).statusCode! : 500
      if (status >= 400 && status < 500) {
        return reply.code(400).send({ error: 'invalid_request', error_description: (error as Error).message })
      }
      request.log.error({ err: error }, 'sandbox request failed')
      return reply.code(500).send({ error: 'server_error' })
    })

    /** The token and revocation endpoints take form-urlencoded bodies with each parameter at most once. */
    function formOf(request: FastifyRequest): Record<string, string> {
      if (!String(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
        throw badRequest('the body must be application/x-www-form-urlencoded')
      }
      const body = (request.body ?? {}) as Record<string, unknown>
      const form: Record<string, string> = {}
      for (const [name, value] of Object.entries(body)) {
        if (typeof value !== 'string') throw badRequest(`repeated parameter: ${name}`)
        form[name] = value
      }
      return form
    }

    /** client_secret_post or HTTP Basic (RFC 6749 2.3.1), never both; compared in constant time. */
    function authenticateClient(request: FastifyRequest, form: Record<string, string>): string {
      const unauthorized = (description: string) => new SandboxError(401, 'invalid_client', description, { 'www-authenticate': 'Basic realm="Sandbox"' })
      const header = request.headers.authorization
      let id: string | undefined
      let secret: string | undefined
      if (header && /^basic /i.test(header)) {
        if (form.client_secret !== undefined) throw badRequest('use one client authentication method, not two')
        const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon < 0) throw unauthorized('malformed Basic credentials')
        try {
          const formDecode = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '))
          id = formDecode(decoded.slice(0, colon))
          secret = formDecode(decoded.slice(colon + 1))
        } catch {
          throw unauthorized('malformed Basic credentials')
        }
        if (form.client_id !== undefined && form.client_id !== id) throw unauthorized('client_id does not match the credentials')
      } else {
        id = form.client_id
        secret = form.client_secret
      }
      if (id === undefined || secret === undefined) throw unauthorized('client authentication is required')
      const idOk = sameSecret(id, client.id)
      const secretOk = sameSecret(secret, client.secret)
      if (!(idOk && secretOk)) throw unauthorized('unknown client or wrong secret')
      return client.id
    }

    api.post('/sandbox/oauth/token', { config: { csrf: false } }, async (request, reply) => {
      const form = formOf(request)
      const clientId = authenticateClient(request, form)
      let outcome: Outcome<TokenResponse>
      switch (form.grant_type) {
        case 'authorization_code': {
          if (!form.code) throw badRequest('code is required')
          if (!form.code_verifier) throw badRequest('code_verifier is required (PKCE)')
          outcome = store.redeemCode(form.code, { clientId, redirectUri: form.redirect_uri, verifier: form.code_verifier })
          break
        }
        case 'refresh_token': {
          if (!form.refresh_token) throw badRequest('refresh_token is required')
          const scope = form.scope === undefined ? null : form.scope.split(' ').filter(Boolean)
          outcome = store.refresh(form.refresh_token, { clientId, scope })
          break
        }
        case undefined:
        case '':
          throw badRequest('grant_type is required')
        default:
          throw new SandboxError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token')
      }
      if (!outcome.ok) throw outcome.error
      return reply.send(outcome.value)
    })

    api.post('/sandbox/oauth/revoke', { config: { csrf: false } }, async (request, reply) => {
      const form = formOf(request)
      const clientId = authenticateClient(request, form)
      if (!form.token) throw badRequest('token is required')
      // token_type_hint is only a hint (RFC 7009 2.1): every kind is looked up anyway.
      store.revoke(form.token, clientId)
      return reply.send({})
    })

    /** The Bearer token's account, if the token is live and carries `scope`. Never read from the query string. */
    function authenticate(request: FastifyRequest, scope: SandboxScope): AccountRow {
      const invalid = (description: string) => new SandboxError(401, 'invalid_token', description, { 'www-authenticate': 'Bearer realm="Sandbox", error="invalid_token"' })
      const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
      if (!match) throw invalid('a Bearer access token is required')
      const grant = store.accessGrant(match[1]!)
      if (!grant) throw invalid('the access token is unknown, expired or revoked')
      if (!grant.scope.includes(scope)) {
        throw new SandboxError(403, 'insufficient_scope', `this request needs the ${scope} scope`, {
          'www-authenticate': `Bearer realm="Sandbox", error="insufficient_scope", scope="${scope}"`,
        })
      }
      const account = store.account(grant.accountId)
      if (!account) throw invalid('the account no longer exists')
      return account
    }

    const notFound = () => new SandboxError(404, 'not_found', 'no such meeting')

    api.get('/sandbox/api/me', async (request, reply) => {
      const account = authenticate(request, 'profile')
      return reply.send({ id: account.id, name: account.name, email: account.email })
    })

    api.post('/sandbox/api/meetings', { config: { csrf: false } }, async (request, reply) => {
      const account = authenticate(request, 'meetings')
      const fields = readMeeting(request.body, null)
      const requestId = readRequestId(request.body)
      const result = store.createMeeting(account.id, fields, requestId, joinUrl)
      if (result === 'conflict') throw new SandboxError(409, 'conflict', 'the meeting created with this requestId has been deleted')
      return reply.code(result.created ? 201 : 200).send(meetingJson(result.row))
    })

    api.get('/sandbox/api/meetings/:id', async (request, reply) => {
      const account = authenticate(request, 'meetings')
      const meeting = store.meeting((request.params as { id: string }).id, account.id)
      if (!meeting) throw notFound()
      return reply.send(meetingJson(meeting))
    })

    api.patch('/sandbox/api/meetings/:id', { config: { csrf: false } }, async (request, reply) => {
      const account = authenticate(request, 'meetings')
      const meeting = store.meeting((request.params as { id: string }).id, account.id)
      if (!meeting) throw notFound()
      const updated = store.updateMeeting(meeting.id, readMeeting(request.body, fieldsOf(meeting)))
      if (!updated || updated.deleted_at !== null) throw notFound()
      return reply.send(meetingJson(updated))
    })

    api.delete('/sandbox/api/meetings/:id', { config: { csrf: false } }, async (request, reply) => {
      const account = authenticate(request, 'meetings')
      const meeting = store.meeting((request.params as { id: string }).id, account.id)
      if (!meeting) throw notFound()
      store.deleteMeeting(meeting.id)
      return reply.code(204).send()
    })
  })
}

function formatTime(iso: string, timeZone: string, language: Language): string {
  return new Intl.DateTimeFormat(language === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(iso))
}
