/**
 * An independent, standards-conformant OAuth 2.0 authorization server for tests: panva's `oidc-provider`
 * (devDependency, major 8: the newest line that supports Node 20; 9.x warns "Unsupported runtime. Use Node.js
 * v22.x LTS" on Node 20), on 127.0.0.1 at a random port, with its development interactions (login as any
 * account, then consent) driven over HTTP with a small cookie jar. No browser.
 *
 * What it is set up to enforce (all oidc-provider's own code, none of ours):
 *   - two confidential clients: one registered for `client_secret_post`, one for `client_secret_basic`
 *     (oidc-provider accepts either of these two from a secret client, so tests read the request log to see
 *     which one the app used);
 *   - the exact redirect URIs given; PKCE required, S256 only;
 *   - refresh tokens for every code grant (Google-style `access_type=offline` has no meaning here), rotation
 *     optional; RFC 7009 revocation; a userinfo endpoint with sub, name and email;
 *   - RFC 9207 `iss` in every authorization response, with the configured issuer identifier.
 */
import http from 'node:http'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'

export const CALENDAR_EVENTS = 'https://www.googleapis.com/auth/calendar.events.owned'

export interface TestAccount {
  sub: string
  name: string
  email: string
}

export const ACCOUNTS: Record<string, TestAccount> = {
  alice: { sub: 'alice-0001', name: 'Alice Example', email: 'alice@example.org' },
}

export interface RecordedRequest {
  method: string
  path: string
  status: number
  /** The client authenticated with HTTP Basic. */
  basic: boolean
  /** Form fields the request carried (names only, plus grant_type / token_type_hint values). */
  fields: string[]
  grantType?: string
  error?: string
}

export interface OidcServer {
  /** http://127.0.0.1:<port>, where the endpoints are. */
  url: string
  /** The issuer identifier it names itself with (RFC 9207 `iss`, discovery `issuer`). */
  issuer: string
  endpoints: { authorizeUrl: string; tokenUrl: string; revokeUrl: string; userinfoUrl: string; apiUrl: string }
  clients: { post: { id: string; secret: string }; basic: { id: string; secret: string } }
  requests: RecordedRequest[]
  count(path: string, method?: string): number
  /** Token responses as they left the server (secrets included: for tests only). */
  issued: { accessTokens: string[]; refreshTokens: string[] }
  /**
   * Plays the browser from the authorization URL on: login (dev interaction) when there is no session,
   * consent, and returns the redirect back to the client (not followed).
   */
  authorize(authorizeUrl: string | URL, options?: { login?: string; deny?: boolean; jar?: CookieJar }): Promise<URL>
  /** A raw token request with client_secret_post, independent of the app's client. */
  tokenRequest(client: { id: string; secret: string }, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>
  close(): Promise<void>
}

export interface OidcServerOptions {
  redirectUris: string[]
  /** The issuer identifier; defaults to the server's own URL. */
  issuer?: string
  /** Rotate refresh tokens on every use (oidc-provider then also detects reuse of a rotated one). */
  rotateRefreshTokens?: boolean
  /** Scope values the server knows besides openid/offline_access and those of the claims below. */
  extraScopes?: string[]
}

/** A browser's cookie jar, good enough for one host: paths are ignored, expired cookies are dropped. */
export class CookieJar {
  cookies = new Map<string, string>()

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim())
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      const expires = attributes.find((a) => /^expires=/i.test(a))
      const maxAge = attributes.find((a) => /^max-age=/i.test(a))
      const gone = value === '' || (expires && Date.parse(expires.slice(8)) <= Date.now()) || (maxAge && Number(maxAge.slice(8)) <= 0)
      if (gone) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
}

/** The little of oidc-provider's (untyped) API used here. */
interface ProviderInstance {
  issuer: string
  callback(): http.RequestListener
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void
}
interface KoaContext {
  method: string
  path: string
  status: number
  body: unknown
  get(header: string): string
  oidc?: { body?: Record<string, unknown> }
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance

// oidc-provider ships no type declarations (and this project may not add @types packages for it): a
// non-literal specifier keeps tsc from looking for them; tsx/Node resolve it as usual.
const MODULE: string = 'oidc-provider'

export async function startOidcServer(options: OidcServerOptions): Promise<OidcServer> {
  const { default: Provider } = (await import(MODULE)) as { default: ProviderConstructor }
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer = options.issuer ?? url

  // Secrets with characters that RFC 6749 §2.3.1 says must be form-encoded before HTTP Basic.
  const clients = {
    post: { id: 'vm-post-client', secret: `post:${randomBytes(12).toString('base64url')}/+ %&=` },
    basic: { id: 'vm:basic client', secret: `basic:${randomBytes(12).toString('base64url')}/+ %&=` },
  }
  const requests: RecordedRequest[] = []
  const issued = { accessTokens: [] as string[], refreshTokens: [] as string[] }

  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' })
  const registered = (client: { id: string; secret: string }, method: string) => ({
    client_id: client.id,
    client_secret: client.secret,
    token_endpoint_auth_method: method,
    redirect_uris: options.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  })

  const provider = new Provider(issuer, {
    clients: [registered(clients.post, 'client_secret_post'), registered(clients.basic, 'client_secret_basic')],
    jwks: { keys: [{ ...jwk, kid: 'test', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    pkce: { methods: ['S256'], required: () => true },
    scopes: ['openid', 'offline_access', ...(options.extraScopes ?? [])],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(_ctx: unknown, id: string) {
      const account = ACCOUNTS[id]
      if (!account) return undefined
      return { accountId: id, claims: async () => ({ sub: account.sub, name: account.name, email: account.email, email_verified: true }) }
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: Boolean(options.rotateRefreshTokens),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      // No `resource` parameter: access tokens are for the userinfo endpoint and carry the OIDC scopes.
      resourceIndicators: { enabled: false },
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86_400, Interaction: 600, Session: 3600, Grant: 86_400 },
  })

  provider.use(async (ctx, next) => {
    await next()
    const body = ctx.oidc?.body ?? {}
    const response = ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body) ? (ctx.body as Record<string, unknown>) : {}
    requests.push({
      method: ctx.method,
      path: ctx.path,
      status: ctx.status,
      basic: /^basic /i.test(ctx.get('authorization')),
      fields: Object.keys(body),
      ...(typeof body.grant_type === 'string' && { grantType: body.grant_type }),
      ...(typeof response.error === 'string' && { error: response.error }),
    })
    if (ctx.path === '/token' && ctx.status === 200) {
      if (typeof response.access_token === 'string') issued.accessTokens.push(response.access_token)
      if (typeof response.refresh_token === 'string') issued.refreshTokens.push(response.refresh_token)
    }
  })
  server.on('request', provider.callback())

  async function authorize(authorizeUrl: string | URL, opts: { login?: string; deny?: boolean; jar?: CookieJar } = {}): Promise<URL> {
    const jar = opts.jar ?? new CookieJar()
    let next: { url: URL; method: 'GET' | 'POST'; form?: Record<string, string> } = { url: new URL(authorizeUrl), method: 'GET' }
    for (let step = 0; step < 12; step++) {
      if (next.url.origin !== url) return next.url // back to the client: the caller follows it
      const res = await fetch(next.url, {
        method: next.method,
        redirect: 'manual',
        headers: { cookie: jar.header(), ...(next.form && { 'content-type': 'application/x-www-form-urlencoded' }) },
        ...(next.form && { body: new URLSearchParams(next.form).toString() }),
      })
      jar.store(res)
      const location = res.headers.get('location')
      if (res.status >= 300 && res.status < 400 && location) {
        next = { url: new URL(location, next.url), method: 'GET' }
        continue
      }
      const html = await res.text()
      const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1]
      if (res.status !== 200 || !prompt) throw new Error(`oidc-provider answered ${res.status} at ${next.url.pathname}: ${html.slice(0, 400)}`)
      const uid = next.url.pathname.split('/').pop()!
      if (opts.deny) {
        next = { url: new URL(`/interaction/${uid}/abort`, url), method: 'GET' }
      } else if (prompt === 'login') {
        next = { url: new URL(`/interaction/${uid}`, url), method: 'POST', form: { prompt: 'login', login: opts.login ?? 'alice', password: 'any' } }
      } else {
        next = { url: new URL(`/interaction/${uid}`, url), method: 'POST', form: { prompt: 'consent' } }
      }
    }
    throw new Error('oidc-provider: too many steps')
  }

  async function tokenRequest(client: { id: string; secret: string }, form: Record<string, string>) {
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, client_id: client.id, client_secret: client.secret }).toString(),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  return {
    url,
    issuer,
    endpoints: { authorizeUrl: `${url}/auth`, tokenUrl: `${url}/token`, revokeUrl: `${url}/token/revocation`, userinfoUrl: `${url}/me`, apiUrl: `${url}/api` },
    clients,
    requests,
    count: (path, method) => requests.filter((r) => r.path === path && (!method || r.method === method)).length,
    issued,
    authorize,
    tokenRequest,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
