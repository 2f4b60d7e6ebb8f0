import Fastify, { type FastifyInstance } from 'fastify'
import type { OAuth2Namespace } from '@fastify/oauth2'
import type { OAuthSpec, ProviderEndpoints } from '../providers/contract.js'
import { englishReason, secondsOf, type Reason } from '../providers/reason.js'
import type { TokenSet } from '../model/connection.js'

export type { TokenSet }


export type OAuthErrorKind =
  /** The code or refresh token is no good (invalid_grant): the connection needs a new sign-in. */
  | 'invalid_grant'
  /** The client registration is wrong (invalid_client, unauthorized_client). */
  | 'invalid_client'
  /** Timeout, network failure, 5xx, 429, garbage: the answer may have been lost. */
  | 'unavailable'
  /** Any other refusal. */
  | 'refused'

export class OAuthError extends Error {
  /** Why, as data (see providers/reason.ts): what users read, in their language. */
  readonly reason: Reason | undefined

  constructor(
    readonly kind: OAuthErrorKind,
    /** The reason (the message is its English rendering), or a message of its own. */
    why: string | Reason,
    readonly details: { status?: number; error?: string; description?: string } = {},
    /** The low-level error (socket, parser) for the logs; the reason is what users read. */
    options?: { cause?: unknown },
  ) {
    super(typeof why === 'string' ? why : englishReason(why), options)
    this.name = 'OAuthError'
    this.reason = typeof why === 'string' ? undefined : why
  }
}

export interface ClientCredentials {
  id: string
  secret: string
}

export interface OAuthClient {
  authorizationUrl(params: { state: string; codeChallenge: string }): string
  exchangeCode(code: string, codeVerifier: string): Promise<{ tokens: TokenSet; response: Record<string, unknown> }>
  refresh(refreshToken: string): Promise<{ tokens: TokenSet; response: Record<string, unknown> }>
  /** RFC 7009 revocation where the provider has an endpoint; false when it has none. */
  revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<boolean>
}

type BoomLike = {
  isBoom?: boolean
  output?: { statusCode?: number }
  /** Wreck: the response (read errors, response errors) or, for request errors, the socket error itself. */
  data?: { payload?: unknown; isResponseError?: boolean; res?: { statusCode?: number; headers?: Record<string, unknown> } } | null
  message?: string
}

/**
 * Boom errors from simple-oauth2 (under @fastify/oauth2, HTTP by Wreck with strict JSON) carry the token
 * endpoint's status and body. The reason is what users read, in their language ("{provider} did not complete the
 * sign-in: …", "Video link pending: …"): plain words, the HTTP status once, nothing internal. The message is its
 * English rendering; the Boom error stays on `cause` for the logs.
 *
 * What Wreck throws:
 * - no answer: 504 "Client request timeout", or 502 "Client request error" (refused, reset, DNS) with the socket
 *   error as data;
 * - an answer that could not be read (data.res set): 406 when it is not JSON (an HTML error page), 502 when the
 *   JSON does not parse, 408 when the body did not arrive in time, 500 when the connection broke off mid-body;
 * - a JSON answer with status ≥ 400: data.isResponseError, data.payload the parsed body.
 */
function toOAuthError(error: unknown, who: Who, timeoutMs: number): OAuthError {
  const e = error as BoomLike
  const boomStatus = e?.output?.statusCode
  const data = e?.data && typeof e.data === 'object' ? e.data : undefined
  const cause = { cause: error }
  const timedOut = () => new OAuthError('unavailable', { code: 'timeout', ...who, seconds: secondsOf(timeoutMs) }, {}, cause)

  if (!data?.isResponseError) {
    const status = typeof data?.res?.statusCode === 'number' ? data.res.statusCode : undefined
    if (status === undefined) {
      // No answer at all.
      if (boomStatus === 504 || /time-?out/i.test(e?.message ?? '')) return timedOut()
      return new OAuthError('unavailable', { code: 'unreachable', ...who }, {}, cause)
    }
    // An answer came, but not one that can be read: retried, it may well be a passing proxy or gateway fault.
    const details = { status }
    if (boomStatus === 408) return timedOut()
    if (boomStatus === 500) return new OAuthError('unavailable', { code: 'broken_off', ...who }, details, cause)
    if (status < 400) return new OAuthError('unavailable', { code: 'unreadable', ...who }, details, cause)
    const html = /html/i.test(String(data?.res?.headers?.['content-type'] ?? ''))
    const what = html ? 'error_page' : status === 429 ? 'too_many_requests' : status >= 500 ? 'server_error' : 'error_unreadable'
    return new OAuthError('unavailable', { code: what, ...who, status }, details, cause)
  }

  const status = boomStatus
  const payload = data.payload
  let body: Record<string, unknown> | undefined
  if (payload && typeof payload === 'object' && !Buffer.isBuffer(payload)) body = payload as Record<string, unknown>
  else if (payload) {
    try {
      body = JSON.parse(String(payload)) as Record<string, unknown>
    } catch {
      body = undefined
    }
  }
  const answer = tokenErrorOf(body)
  const code = answer.code
  const description = answer.description?.slice(0, 300)
  const details = { ...(status !== undefined && { status }), ...(code && { error: code }), ...(description && { description }) }
  // Said as "the provider refused …" (no name), as they always were.
  if (code === 'invalid_grant') return new OAuthError('invalid_grant', { code: 'grant_refused', errorCode: code, ...(description && { description }) }, details, cause)
  if (code === 'invalid_client' || code === 'unauthorized_client') return new OAuthError('invalid_client', { code: 'client_refused', errorCode: code }, details, cause)
  // RFC 6749's own server_error / temporarily_unavailable only repeat "server error": said once.
  const saysMore = code !== undefined && code !== String(status) && code !== 'server_error' && code !== 'temporarily_unavailable'
  const http = { ...(status !== undefined && { status }), ...(saysMore && { errorCode: code }) }
  const said = (what: Reason['code']): Reason => ({ code: what, ...who, ...http })
  if (status === 429) return new OAuthError('unavailable', said('too_many_requests'), details, cause)
  if (status === 408) return new OAuthError('unavailable', said('try_later'), details, cause)
  if (!status || status >= 500) return new OAuthError('unavailable', said('server_error'), details, cause)
  return new OAuthError('refused', said('token_refused'), details, cause)
}

/**
 * The OAuth error code and description of a token endpoint's error body: RFC 6749's {error, error_description},
 * or Webex's envelope {message, errors: [{description}], trackingId}, which has no `error` field: its message quotes
 * the identity broker's answer ("… error = 'invalid_grant', description = 'The refresh token provided is expired,
 * revoked, malformed, or invalid.')"). Read as a plain refusal, a dead Webex grant left the connection "connected"
 * and marked each meeting failed; read here, it asks for a new sign-in like any other provider's.
 */
export function tokenErrorOf(body: Record<string, unknown> | undefined): { code?: string; description?: string } {
  if (!body) return {}
  if (typeof body.error === 'string') return { code: body.error, ...(typeof body.error_description === 'string' && { description: body.error_description }) }
  const errors = Array.isArray(body.errors) ? body.errors.map((e) => (e && typeof e === 'object' ? (e as Record<string, unknown>).description : undefined)) : []
  const text = [body.message, ...errors].filter((part): part is string => typeof part === 'string').join(' ')
  const code = /\berror\s*=\s*'([a-z_]+)'/i.exec(text)?.[1]
  const description = /\bdescription\s*=\s*'([^']*)'/i.exec(text)?.[1]
  if (code) return { code, ...(description && { description }) }
  // Webex's words without the broker's code: a refresh token it no longer takes is a dead grant all the same.
  if (/refresh token/i.test(text) && /expired|revoked|invalid/i.test(text)) return { code: 'invalid_grant', description: text }
  return {}
}

/** The provider as reasons name it: { provider: 'Zoom' }, or nothing ("the provider"). */
type Who = { provider?: string }

function toTokenSet(token: Record<string, unknown>, now: number, previousRefreshToken: string | null, who: Who): TokenSet {
  const accessToken = token.access_token
  if (typeof accessToken !== 'string' || !accessToken) throw new OAuthError('unavailable', { code: 'no_access_token', ...who })
  const expiresIn = Number(token.expires_in)
  return {
    accessToken,
    // A refresh response without a refresh token (Google) keeps the one we had.
    refreshToken: typeof token.refresh_token === 'string' && token.refresh_token ? token.refresh_token : previousRefreshToken,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : null,
    scope: typeof token.scope === 'string' ? token.scope : Array.isArray(token.scope) ? token.scope.join(' ') : null,
  }
}

/** The response without the secrets in it: what identity() may read (Teams' id_token claims). */
function publicPart(token: Record<string, unknown>): Record<string, unknown> {
  const { access_token: _a, refresh_token: _r, expires_at: _e, ...rest } = token
  return rest
}

export interface OAuthClientOptions {
  spec: OAuthSpec
  endpoints: ProviderEndpoints
  credentials: ClientCredentials
  redirectUri: string
  timeoutMs: number
  /** How messages name the provider ("Zoom answered with an error page, HTTP 502"); "the provider" by default. */
  providerName?: string
  now?: () => number
}

/** simple-oauth2's AuthorizationCode client, as far as this file uses it. */
interface AuthorizationCodeClient {
  authorizeURL(params: Record<string, unknown>): string
  getToken(params: Record<string, unknown>): Promise<{ token: Record<string, unknown> }>
  createToken(token: Record<string, unknown>): {
    refresh(params?: Record<string, unknown>): Promise<{ token: Record<string, unknown> }>
    revoke(hint: string, httpOptions?: Record<string, unknown>): Promise<void>
  }
}

/**
 * The simple-oauth2 client inside @fastify/oauth2's decoration (registered as `provider`, so also typed as
 * `oauth2Provider`): the decoration carries it as `oauth2`, which the plugin's types leave out. The one untyped
 * step of this file, checked at run time so an upgrade that moves it fails at the first sign-in, loudly.
 */
function authorizationCodeClientOf(holder: FastifyInstance): AuthorizationCodeClient {
  const namespace: (OAuth2Namespace & { oauth2?: Partial<AuthorizationCodeClient> }) | undefined = holder.oauth2Provider
  const client = namespace?.oauth2
  if (typeof client?.authorizeURL !== 'function' || typeof client.getToken !== 'function' || typeof client.createToken !== 'function') {
    throw new Error('@fastify/oauth2 no longer exposes its simple-oauth2 client as `oauth2`: see src/connections/oauth-client.ts')
  }
  return client as AuthorizationCodeClient
}

/**
 * An OAuth 2.0 client for one provider, built on @fastify/oauth2 (its simple-oauth2 client does the token,
 * refresh and revoke requests, with the provider's client-authentication style).
 *
 * We do not use the plugin's own state and PKCE handling: it keeps both in browser cookies, while we bind
 * state to a server-side pending-authorization row and never send the PKCE verifier to the browser. Client
 * credentials can change at runtime (the admin form), so each credential set gets its own small, private
 * Fastify instance holding the plugin.
 */
export async function createOAuthClient(options: OAuthClientOptions): Promise<OAuthClient & { close(): Promise<void> }> {
  const { spec, endpoints, credentials, redirectUri, timeoutMs } = options
  const now = options.now ?? Date.now
  const who: Who = options.providerName ? { provider: options.providerName } : {}
  const fail = (error: unknown) => (error instanceof OAuthError ? error : toOAuthError(error, who, timeoutMs))
  // Loaded on first use, not at start-up: @fastify/oauth2 brings simple-oauth2 and joi, about a tenth of the
  // server's start-up time, and most starts never talk to a provider before the first sign-in.
  const { default: oauthPlugin } = await import('@fastify/oauth2')
  const holder = Fastify({ logger: false })
  const tokenUrl = new URL(endpoints.tokenUrl)
  const authorizeUrl = new URL(endpoints.authorizeUrl)
  await holder.register(oauthPlugin, {
    name: 'provider',
    scope: spec.scopes,
    callbackUri: redirectUri,
    credentials: {
      client: { id: credentials.id, secret: credentials.secret },
      auth: {
        tokenHost: tokenUrl.origin,
        tokenPath: tokenUrl.href,
        authorizeHost: authorizeUrl.origin,
        authorizePath: authorizeUrl.href,
        // Only used when the provider has a revocation endpoint (checked below).
        revokePath: endpoints.revokeUrl ?? tokenUrl.href,
      },
      options: { authorizationMethod: spec.clientAuth, bodyFormat: 'form' },
      http: { timeout: timeoutMs, headers: { 'user-agent': 'VideoMeetings' } },
    },
    // Never used for our flows (see above), but required by the plugin when no default cookie state is wanted.
    generateStateFunction: () => {
      throw new Error('state is generated server-side')
    },
    checkStateFunction: () => false,
  })
  await holder.ready()
  const client = authorizationCodeClientOf(holder)

  return {
    authorizationUrl({ state, codeChallenge }) {
      return client.authorizeURL({
        redirect_uri: redirectUri,
        scope: spec.scopes.join(' '),
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        ...spec.authorizeParams,
      })
    },
    async exchangeCode(code, codeVerifier) {
      try {
        const { token } = await client.getToken({ code, redirect_uri: redirectUri, code_verifier: codeVerifier })
        return { tokens: toTokenSet(token, now(), null, who), response: publicPart(token) }
      } catch (error) {
        throw fail(error)
      }
    },
    async refresh(refreshToken) {
      try {
        const { token } = await client.createToken({ refresh_token: refreshToken, access_token: '', token_type: 'Bearer' }).refresh({ ...spec.refreshParams })
        return { tokens: toTokenSet(token, now(), refreshToken, who), response: publicPart(token) }
      } catch (error) {
        throw fail(error)
      }
    },
    async revoke(token, hint) {
      if (!endpoints.revokeUrl) return false
      try {
        // RFC 7009: a 200 with any (often empty, non-JSON) body means revoked; strict JSON parsing would fail it.
        await client.createToken({ [hint]: token, token_type: 'Bearer' }).revoke(hint, { json: true })
        return true
      } catch (error) {
        throw fail(error)
      }
    },
    close: () => holder.close(),
  }
}
