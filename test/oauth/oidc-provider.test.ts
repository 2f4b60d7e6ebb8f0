/**
 * The app's OAuth 2.0 client against an independent, standards-conformant authorization server: panva's
 * oidc-provider (see oidc-server.ts). First createOAuthClient on its own (both client-authentication styles),
 * then the whole Configure flow of the Google Meet provider pointed at it through the GOOGLE_* environment.
 */
import t, { type Test } from 'tap'
import { newPkce } from '../../src/connections/pkce.js'
import { createOAuthClient, OAuthError, type TokenSet } from '../../src/connections/oauth-client.js'
import type { OAuthSpec } from '../../src/providers/contract.js'
import { setUpAdmin, testApp, type Client } from '../helpers/app.js'
import { CONFIGURE } from '../helpers/configure.js'
import { ACCOUNTS, CALENDAR_EVENTS, CookieJar, startOidcServer, type OidcServer } from './oidc-server.js'

const REDIRECT = 'http://127.0.0.1:3000/oauth/test/callback'
const BASE_URL = 'http://127.0.0.1:3000'
const GOOGLE_CALLBACK = `${BASE_URL}/oauth/google-meet/callback`
const GOOGLE_ISSUER = 'https://accounts.google.com'
const alice = ACCOUNTS.alice!


function spec(clientAuth: 'body' | 'header'): OAuthSpec {
  return {
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    requiredScopes: [],
    clientAuth,
    // OpenID Connect Core §11: offline_access is only honoured together with prompt=consent.
    authorizeParams: { prompt: 'consent' },
    consoleUrl: 'https://example.test',
    registrationHelp: { en: '', nl: '' },
  }
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'resolved'
  } catch (error) {
    return error instanceof OAuthError ? error.kind : `not an OAuthError: ${String(error)}`
  }
}

t.test('createOAuthClient against oidc-provider', async (t) => {
  const server = await startOidcServer({ redirectUris: [REDIRECT], rotateRefreshTokens: true })
  t.teardown(() => server.close())

  for (const [clientAuth, credentials, other] of [
    ['body', server.clients.post, server.clients.basic],
    ['header', server.clients.basic, server.clients.post],
  ] as const) {
    t.test(`client authentication: ${clientAuth}`, async (t) => {
      const client = await createOAuthClient({ spec: spec(clientAuth), endpoints: server.endpoints, credentials, redirectUri: REDIRECT, timeoutMs: 5000 })
      t.teardown(() => client.close())
      const jar = new CookieJar()

      /** One authorization round trip: returns the code and the verifier that belongs to it. */
      async function authorize(): Promise<{ code: string; verifier: string; back: URL }> {
        const pkce = newPkce()
        const state = `state-${Math.random().toString(36).slice(2)}`
        const back = await server.authorize(client.authorizationUrl({ state, codeChallenge: pkce.challenge }), { jar })
        t.equal(back.origin + back.pathname, REDIRECT, 'back at the exact redirect URI')
        t.equal(back.searchParams.get('state'), state, 'state echoed')
        t.equal(back.searchParams.get('iss'), server.issuer, 'RFC 9207 iss present')
        return { code: back.searchParams.get('code')!, verifier: pkce.verifier, back }
      }

      const pkce = newPkce()
      const url = new URL(client.authorizationUrl({ state: 'the-state', codeChallenge: pkce.challenge }))
      t.equal(url.origin + url.pathname, server.endpoints.authorizeUrl)
      const q = url.searchParams
      t.equal(q.get('response_type'), 'code')
      t.equal(q.get('client_id'), credentials.id)
      t.equal(q.get('redirect_uri'), REDIRECT)
      t.equal(q.get('scope'), 'openid offline_access email profile')
      t.equal(q.get('state'), 'the-state')
      t.equal(q.get('code_challenge'), pkce.challenge)
      t.equal(q.get('code_challenge_method'), 'S256')
      t.notOk(q.has('code_verifier'))

      // Wrong verifier: RFC 7636 §4.6 → invalid_grant.
      const first = await authorize()
      t.equal(await kindOf(client.exchangeCode(first.code, newPkce().verifier)), 'invalid_grant', 'wrong PKCE verifier → invalid_grant')

      // The right verifier: tokens. Then the same code again: invalid_grant, and (RFC 6749 §4.1.2) the
      // tokens issued from it are revoked.
      const second = await authorize()
      const before = Date.now()
      const { tokens, response } = await client.exchangeCode(second.code, second.verifier)
      t.type(tokens.accessToken, 'string')
      t.ok(tokens.accessToken.length > 20)
      t.type(tokens.refreshToken, 'string', 'a refresh token (offline_access)')
      t.ok(tokens.expiresAt! >= before + 3_590_000 && tokens.expiresAt! <= Date.now() + 3_600_000, 'expires_in → expiresAt')
      t.same(new Set(tokens.scope!.split(' ')), new Set(['openid', 'offline_access', 'email', 'profile']), 'granted scope')
      t.notOk('access_token' in response || 'refresh_token' in response, 'the public part holds no secrets')
      t.type(response.id_token, 'string')
      const tokenRequest = server.requests.filter((r) => r.path === '/token' && r.grantType === 'authorization_code').at(-1)!
      t.equal(tokenRequest.status, 200)
      if (clientAuth === 'header') {
        t.ok(tokenRequest.basic, 'client_secret_basic')
        t.notOk(tokenRequest.fields.includes('client_secret'))
      } else {
        t.notOk(tokenRequest.basic)
        t.ok(tokenRequest.fields.includes('client_secret'), 'client_secret_post')
      }
      t.ok(tokenRequest.fields.includes('code_verifier'))
      t.equal(await kindOf(client.exchangeCode(second.code, second.verifier)), 'invalid_grant', 'a code is single use')
      t.equal(await kindOf(client.refresh(tokens.refreshToken!)), 'invalid_grant', 'code reuse revoked what the code gave')

      // Refresh with rotation: every refresh gives a new refresh token; a rotated-away one is refused.
      const third = await authorize()
      const fresh = (await client.exchangeCode(third.code, third.verifier)).tokens
      const once = (await client.refresh(fresh.refreshToken!)).tokens
      t.not(once.accessToken, fresh.accessToken, 'a new access token')
      t.type(once.refreshToken, 'string')
      t.not(once.refreshToken, fresh.refreshToken, 'rotated refresh token')
      t.ok(once.expiresAt! > Date.now())
      t.same(new Set(once.scope!.split(' ')), new Set(['openid', 'offline_access', 'email', 'profile']))
      const twice = (await client.refresh(once.refreshToken!)).tokens
      t.type(twice.accessToken, 'string')
      t.equal(await kindOf(client.refresh(fresh.refreshToken!)), 'invalid_grant', 'a rotated-away refresh token → invalid_grant')

      // RFC 7009 revocation of a refresh token: later refreshes fail.
      const fourth = await authorize()
      const revocable = (await client.exchangeCode(fourth.code, fourth.verifier)).tokens
      const revokesBefore = server.count('/token/revocation', 'POST')
      const outcome = await kindOf(client.revoke(revocable.refreshToken!, 'refresh_token'))
      t.equal(server.count('/token/revocation', 'POST'), revokesBefore + 1, 'the revocation request reached the server')
      const revocation = server.requests.filter((r) => r.path === '/token/revocation').at(-1)!
      t.equal(revocation.status, 200, 'and the server revoked (200)')
      t.ok(revocation.fields.includes('token'))
      t.equal(revocation.basic, clientAuth === 'header', `revocation authenticates like the token request (${clientAuth})`)
      t.equal(outcome, 'resolved', 'revoke() reports the 200 as success')
      t.equal(await kindOf(client.refresh(revocable.refreshToken!)), 'invalid_grant', 'a revoked refresh token → invalid_grant')

      // oidc-provider treats client_secret_basic and client_secret_post alike for secret clients, so the
      // style is proven by the request log above; the id and secret hold characters (`:`, space, `+`, `%`,
      // `/`, `&`, `=`) that only survive HTTP Basic when form-encoded first (RFC 6749 §2.3.1).
      const wrongSecret = await createOAuthClient({ spec: spec(clientAuth), endpoints: server.endpoints, credentials: { id: credentials.id, secret: other.secret }, redirectUri: REDIRECT, timeoutMs: 5000 })
      t.teardown(() => wrongSecret.close())
      t.equal(await kindOf(wrongSecret.refresh(twice.refreshToken!)), 'invalid_client', 'a wrong secret → invalid_client')
    })
  }
})

t.test('a scope the server does not grant is missing from the token response', async (t) => {
  // oidc-provider drops scope values it does not know; the app compares the grant with what it needs.
  const server = await startOidcServer({ redirectUris: [REDIRECT] })
  t.teardown(() => server.close())
  const client = await createOAuthClient({
    spec: { ...spec('body'), scopes: ['openid', 'offline_access', CALENDAR_EVENTS] },
    endpoints: server.endpoints,
    credentials: server.clients.post,
    redirectUri: REDIRECT,
    timeoutMs: 5000,
  })
  t.teardown(() => client.close())
  const pkce = newPkce()
  const back = await server.authorize(client.authorizationUrl({ state: 's', codeChallenge: pkce.challenge }))
  const { tokens } = await client.exchangeCode(back.searchParams.get('code')!, pkce.verifier)
  t.notMatch(tokens.scope, CALENDAR_EVENTS)
  const { missingScopes } = await import('../../src/connections/authorization.js')
  t.same(missingScopes([CALENDAR_EVENTS], tokens.scope), [CALENDAR_EVENTS])
})

/** oidc-provider as "Google": Google's issuer identifier (GOOGLE_ISSUER), its scopes, the app's exact callback. */
async function googleAtOidcProvider(t: Test, options: { ownIssuer?: boolean } = {}): Promise<{ server: OidcServer; env: Record<string, string> }> {
  const server = await startOidcServer({ redirectUris: [GOOGLE_CALLBACK], ...(!options.ownIssuer && { issuer: GOOGLE_ISSUER }), extraScopes: [CALENDAR_EVENTS] })
  t.teardown(() => server.close())
  const env = {
    BASE_URL,
    GOOGLE_AUTHORIZE_URL: server.endpoints.authorizeUrl,
    GOOGLE_TOKEN_URL: server.endpoints.tokenUrl,
    GOOGLE_REVOKE_URL: server.endpoints.revokeUrl,
    GOOGLE_USERINFO_URL: server.endpoints.userinfoUrl,
    GOOGLE_API_URL: server.endpoints.apiUrl,
    GOOGLE_CLIENT_ID: server.clients.post.id,
    GOOGLE_CLIENT_SECRET: server.clients.post.secret,
    // The server calls itself by Google's name unless ownIssuer: the operator says so, as for a proxy.
    ...(!options.ownIssuer && { GOOGLE_ISSUER }),
  }
  return { server, env }
}

async function choose(admin: Client): Promise<URL> {
  await admin.get(CONFIGURE)
  const start = await admin.post(`${CONFIGURE}/google-meet`)
  if (start.statusCode !== 303) throw new Error(`choosing Google Meet answered ${start.statusCode}`)
  return new URL(String(start.headers.location))
}

const pathOf = (url: URL) => url.pathname + url.search

t.test('the app end to end: Google Meet pointed at oidc-provider', async (t) => {
  const { server, env } = await googleAtOidcProvider(t)
  const app = await testApp(t, env)
  const admin = await setUpAdmin(app)

  const authorizeUrl = await choose(admin)
  t.equal(authorizeUrl.origin + authorizeUrl.pathname, server.endpoints.authorizeUrl)
  t.equal(authorizeUrl.searchParams.get('redirect_uri'), GOOGLE_CALLBACK)
  t.equal(authorizeUrl.searchParams.get('client_id'), server.clients.post.id)
  t.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256')
  t.same(authorizeUrl.searchParams.get('scope')!.split(' '), ['openid', 'email', 'profile', CALENDAR_EVENTS])

  const back = await server.authorize(authorizeUrl)
  t.equal(back.origin + back.pathname, GOOGLE_CALLBACK)
  t.equal(back.searchParams.get('iss'), GOOGLE_ISSUER, 'RFC 9207 iss: the issuer the Google adapter expects')
  const res = await admin.get(pathOf(back))
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, CONFIGURE)
  const page = await admin.get(CONFIGURE)
  t.match(page.body, 'Configured configurations')
  t.match(page.body, '<strong>Google Meet</strong>')
  t.match(page.body, alice.email)
  t.match(page.body, 'Connected to Google Meet. Logged in as')

  t.equal(server.count('/token', 'POST'), 1, 'one token request')
  const tokenRequest = server.requests.find((r) => r.path === '/token')!
  t.equal(tokenRequest.status, 200)
  t.equal(tokenRequest.grantType, 'authorization_code')
  t.ok(tokenRequest.fields.includes('client_secret') && !tokenRequest.basic, 'client_secret_post, as Google wants')
  t.ok(tokenRequest.fields.includes('code_verifier'))
  t.equal(server.count('/me', 'GET'), 1, 'identity from the userinfo endpoint')

  const row = app.db.prepare('SELECT account_id, account_email, account_name, granted_scope, tokens_enc FROM organization_provider').get() as Record<string, string>
  t.equal(row.account_id, alice.sub)
  t.equal(row.account_email, alice.email)
  t.equal(row.account_name, alice.name)
  t.match(row.granted_scope, CALENDAR_EVENTS, 'the calendar scope came back in the token response')
  for (const token of [...server.issued.accessTokens, ...server.issued.refreshTokens]) t.notMatch(row.tokens_enc, token, 'stored encrypted')
  const stored = JSON.parse(app.services.vault.open(row.tokens_enc!, 'organization_provider:1:google-meet')) as TokenSet
  t.equal(stored.refreshToken, server.issued.refreshTokens[0], 'the refresh token is kept')
  const usable = await server.tokenRequest(server.clients.post, { grant_type: 'refresh_token', refresh_token: stored.refreshToken! })
  t.equal(usable.status, 200, 'the stored refresh token works before Disconnect')

  // Disconnect: RFC 7009 revocation of the refresh token at the server.
  await admin.get('/settings/video-meetings/disconnect')
  const out = await admin.post('/settings/video-meetings/disconnect')
  t.equal(out.statusCode, 303)
  t.equal(server.count('/token/revocation', 'POST'), 1, 'revocation request sent')
  const revocation = server.requests.find((r) => r.path === '/token/revocation')!
  t.equal(revocation.status, 200)
  t.ok(revocation.fields.includes('token') && revocation.fields.includes('client_secret'))
  const after = await admin.get(CONFIGURE)
  t.match(after.body, 'Choose Google Meet', 'back to the provider list')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0, 'tokens deleted')
  const refused = await server.tokenRequest(server.clients.post, { grant_type: 'refresh_token', refresh_token: stored.refreshToken! })
  t.equal(refused.status, 400)
  t.equal(refused.body.error, 'invalid_grant', 'the stored refresh token is revoked at the server')
  t.match(after.body, 'Google Meet was disconnected.', 'the admin is told it was revoked')
  const audit = app.services.audit.page(5, 0).entries.find((e) => e.action === 'video.disconnect')
  t.match(JSON.stringify(audit), '"revoked":"yes"', 'audited as revoked')
})

t.test('a tampered state is refused before any token request', async (t) => {
  const { server, env } = await googleAtOidcProvider(t)
  const app = await testApp(t, env)
  const admin = await setUpAdmin(app)
  const back = await server.authorize(await choose(admin))
  const tampered = new URL(back)
  tampered.searchParams.set('state', `${back.searchParams.get('state')!.slice(0, -2)}xx`)
  const res = await admin.get(pathOf(tampered))
  t.equal(res.statusCode, 303)
  t.match((await admin.get(CONFIGURE)).body, 'does not belong to a sign-in started here')
  t.equal(server.count('/token'), 0, 'no token request reached oidc-provider')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)

  // Without state at all: the same.
  const bare = new URL(back)
  bare.searchParams.delete('state')
  await admin.get(pathOf(bare))
  t.match((await admin.get(CONFIGURE)).body, 'does not belong to a sign-in started here')
  t.equal(server.count('/token'), 0)

  // The untouched callback still works: the tampered attempts did not spend the real state.
  await admin.get(pathOf(back))
  t.match((await admin.get(CONFIGURE)).body, 'Configured configurations')
  t.equal(server.count('/token', 'POST'), 1)
})

t.test('the user denies consent: access_denied, nothing stored, no token request', async (t) => {
  const { server, env } = await googleAtOidcProvider(t)
  const app = await testApp(t, env)
  const admin = await setUpAdmin(app)
  const back = await server.authorize(await choose(admin), { deny: true })
  t.equal(back.searchParams.get('error'), 'access_denied')
  await admin.get(pathOf(back))
  t.match((await admin.get(CONFIGURE)).body, 'The sign-in at Google Meet was cancelled')
  t.equal(server.count('/token'), 0)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)
})

t.test('RFC 9207: an overridden Google endpoint is expected to name itself by its origin, or by GOOGLE_ISSUER', async (t) => {
  const { server, env } = await googleAtOidcProvider(t, { ownIssuer: true })
  t.equal(server.issuer, server.url)

  // Without GOOGLE_ISSUER, the overridden server's origin is its expected issuer: accepted.
  const app = await testApp(t, env)
  const admin = await setUpAdmin(app)
  const back = await server.authorize(await choose(admin))
  t.equal(back.searchParams.get('iss'), server.url)
  await admin.get(pathOf(back))
  t.match((await admin.get(CONFIGURE)).body, 'Configured configurations')

  // A GOOGLE_ISSUER that is not the server's name: its answers are refused before any code is redeemed.
  const strict = await testApp(t, { ...env, GOOGLE_ISSUER: 'https://accounts.google.com' })
  const admin2 = await setUpAdmin(strict)
  const tokenRequests = server.count('/token')
  const back2 = await server.authorize(await choose(admin2))
  await admin2.get(pathOf(back2))
  t.match((await admin2.get(CONFIGURE)).body, 'The sign-in answer did not come from Google Meet')
  t.equal(server.count('/token'), tokenRequests, 'the code is never redeemed')
  t.equal(strict.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)
})
