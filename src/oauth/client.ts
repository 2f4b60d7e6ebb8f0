import Fastify from 'fastify'
import type { OAuth2Namespace } from '@fastify/oauth2'
import type { OAuthSpec, ProviderEndpoints } from '../providers/contract.js'

/** What the app keeps of a token response. `raw` keeps non-secret fields (id_token claims are read once). */
export interface TokenSet {
  accessToken: string
  refreshToken: string | null
  /** Epoch milliseconds; null when the provider did not say. */
  expiresAt: number | null
  /** The granted scope as the provider reported it, or null when the response had none. */
  scope: string | null
}

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
  constructor(
    readonly kind: OAuthErrorKind,
    message: string,
    readonly details: { status?: number; error?: string; description?: string } = {},
  ) {
    super(message)
    this.name = 'OAuthError'
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

/** Boom errors from simple-oauth2 (under @fastify/oauth2) carry the token endpoint's status and body. */
function toOAuthError(error: unknown): OAuthError {
  const e = error as { isBoom?: boolean; output?: { statusCode?: number }; data?: { payload?: unknown; isResponseError?: boolean }; message?: string; code?: string }
  const status = e?.output?.statusCode
  const payload = e?.data?.payload
  let body: Record<string, unknown> | undefined
  if (payload && typeof payload === 'object' && !Buffer.isBuffer(payload)) body = payload as Record<string, unknown>
  else if (payload) {
    try {
      body = JSON.parse(String(payload)) as Record<string, unknown>
    } catch {
      body = undefined
    }
  }
  const code = typeof body?.error === 'string' ? body.error : undefined
  const description = typeof body?.error_description === 'string' ? body.error_description.slice(0, 300) : undefined
  const details = { ...(status !== undefined && { status }), ...(code && { error: code }), ...(description && { description }) }
  if (code === 'invalid_grant') return new OAuthError('invalid_grant', `the provider refused the grant (invalid_grant${description ? `: ${description}` : ''})`, details)
  if (code === 'invalid_client' || code === 'unauthorized_client') return new OAuthError('invalid_client', `the provider refused the app's client credentials (${code})`, details)
  if (!e?.data?.isResponseError) {
    // Wreck's own errors: 504 "Client request timeout", 502 "Client request error" (refused, reset, DNS).
    const reason = status === 504 || /timeout/i.test(e?.message ?? '') ? 'did not answer in time' : 'could not be reached'
    return new OAuthError('unavailable', `the provider's token endpoint ${reason}`, { ...(code && { error: code }) })
  }
  if (!status || status >= 500 || status === 429 || status === 408) {
    return new OAuthError('unavailable', `the provider's token endpoint answered ${status ?? 'without a status'}`, details)
  }
  return new OAuthError('refused', `the provider refused the token request (${code ?? status})`, details)
}

function toTokenSet(token: Record<string, unknown>, now: number, previousRefreshToken: string | null): TokenSet {
  const accessToken = token.access_token
  if (typeof accessToken !== 'string' || !accessToken) throw new OAuthError('unavailable', 'the token response has no access_token')
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
  now?: () => number
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
  // The decoration also exposes its simple-oauth2 AuthorizationCode client as `oauth2` (untyped).
  const namespace = (holder as unknown as { provider: OAuth2Namespace & { oauth2: unknown } }).provider
  const client = namespace.oauth2 as {
    authorizeURL(params: Record<string, unknown>): string
    getToken(params: Record<string, unknown>): Promise<{ token: Record<string, unknown> }>
    createToken(token: Record<string, unknown>): {
      refresh(params?: Record<string, unknown>): Promise<{ token: Record<string, unknown> }>
      revoke(hint: string, httpOptions?: Record<string, unknown>): Promise<void>
    }
  }

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
        return { tokens: toTokenSet(token, now(), null), response: publicPart(token) }
      } catch (error) {
        throw error instanceof OAuthError ? error : toOAuthError(error)
      }
    },
    async refresh(refreshToken) {
      try {
        const { token } = await client.createToken({ refresh_token: refreshToken, access_token: '', token_type: 'Bearer' }).refresh({ ...spec.refreshParams })
        return { tokens: toTokenSet(token, now(), refreshToken), response: publicPart(token) }
      } catch (error) {
        throw error instanceof OAuthError ? error : toOAuthError(error)
      }
    },
    async revoke(token, hint) {
      if (!endpoints.revokeUrl) return false
      try {
        // RFC 7009: a 200 with any (often empty, non-JSON) body means revoked; strict JSON parsing would fail it.
        await client.createToken({ [hint]: token, token_type: 'Bearer' }).revoke(hint, { json: true })
        return true
      } catch (error) {
        throw toOAuthError(error)
      }
    },
    close: () => holder.close(),
  }
}
