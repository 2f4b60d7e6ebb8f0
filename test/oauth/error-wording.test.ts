/**
 * What the OAuth client (token endpoint) and the meeting API client say when a provider misbehaves. Their reasons
 * are what users and admins read ("Zoom did not complete the sign-in: …", "Video link pending: …"), in their
 * language; the English rendering is the message, so both are pinned word for word: plain words, the HTTP status
 * once, nothing internal. Each reason also survives being stored (meetings.last_error) and read back. A small
 * local server plays the provider; test/hardening/faults.test.ts checks the same through the pages.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createOAuthClient, OAuthError, type OAuthErrorKind } from '../../src/connections/oauth-client.js'
import { ProviderError, type OAuthSpec } from '../../src/providers/contract.js'
import { durationText, providerFetch } from '../../src/providers/http.js'
import { reasonText, storedReason } from '../../src/providers/reason.js'
import { translator } from '../../src/i18n/index.js'

const enT = translator('en')
const nlT = translator('nl')

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
const raw = (status: number, type: string, body: string): Answer => (_req, res) => {
  res.writeHead(status, { 'content-type': type })
  res.end(body)
}
const HTML_502 = raw(502, 'text/html', '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>')
const GARBAGE = raw(200, 'application/json', '{"token_type": "bearer", "expires_in": 3599, "access_tok')
const RESET: Answer = (req) => req.socket.destroy()
const HANG: Answer = (_req, res) => {
  const timer = setTimeout(() => res.end('{}'), 2_000)
  res.on('close', () => clearTimeout(timer))
}

const TIMEOUT_MS = 300

async function provider(t: Test) {
  let answer: Answer = json(200, {})
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => answer(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    answer: (a: Answer) => {
      answer = a
    },
  }
}

const spec: OAuthSpec = { scopes: ['meeting:write'], requiredScopes: [], clientAuth: 'header', consoleUrl: 'https://example.test', registrationHelp: { en: '', nl: '' } }

t.test('durationText', async (t) => {
  t.equal(durationText(1_000), '1 second')
  t.equal(durationText(10_000), '10 seconds')
  t.equal(durationText(500), '0.5 seconds')
  t.equal(durationText(1_250), '1.25 seconds')
})

t.test('token endpoint: what the admin and the user read', async (t) => {
  const p = await provider(t)
  const client = await createOAuthClient({
    spec,
    endpoints: { authorizeUrl: `${p.base}/authorize`, tokenUrl: `${p.base}/token`, revokeUrl: null, userinfoUrl: `${p.base}/me`, apiUrl: p.base },
    credentials: { id: 'id', secret: 'secret' },
    redirectUri: 'http://127.0.0.1:3999/oauth/zoom/callback',
    timeoutMs: TIMEOUT_MS,
    providerName: 'Zoom',
  })
  t.teardown(() => client.close())

  const cases: [string, Answer, OAuthErrorKind, string, Record<string, unknown>?][] = [
    ['an HTML error page', HTML_502, 'unavailable', 'Zoom answered with an error page, HTTP 502', { status: 502 }],
    ['garbage JSON', GARBAGE, 'unavailable', 'Zoom sent an answer that could not be read', { status: 200 }],
    ['a page instead of JSON, 200', raw(200, 'text/html', '<html>Sign in to the Wi-Fi</html>'), 'unavailable', 'Zoom sent an answer that could not be read', { status: 200 }],
    ['a hang', HANG, 'unavailable', 'Zoom did not answer within 0.3 seconds'],
    ['a reset', RESET, 'unavailable', 'Zoom could not be reached'],
    ['503 with an OAuth error', json(503, { error: 'temporarily_unavailable' }), 'unavailable', 'Zoom answered with a server error, HTTP 503', { status: 503, error: 'temporarily_unavailable' }],
    ['500 with the provider\'s own code', json(500, { error: 'internal_failure' }), 'unavailable', 'Zoom answered with a server error, HTTP 500, error code internal_failure'],
    ['500 without a body', raw(500, '', ''), 'unavailable', 'Zoom answered with a server error, HTTP 500'],
    ['429 repeating its status', json(429, { error: '429' }), 'unavailable', 'Zoom reported too many requests, HTTP 429'],
    ['400 invalid_request', json(400, { error: 'invalid_request' }), 'refused', 'Zoom refused the token request, HTTP 400, error code invalid_request'],
    ['400 invalid_grant', json(400, { error: 'invalid_grant', error_description: 'Invalid Token!' }), 'invalid_grant', 'the provider refused the grant (invalid_grant: Invalid Token!)'],
    ['401 invalid_client', json(401, { error: 'invalid_client' }), 'invalid_client', "the provider refused the app's client credentials (invalid_client)"],
    ['200 without an access token', json(200, { token_type: 'bearer' }), 'unavailable', 'Zoom answered without an access token'],
  ]
  for (const [name, answer, kind, message, details] of cases) {
    p.answer(answer)
    for (const [call, run] of [
      ['exchangeCode', () => client.exchangeCode('code', 'verifier')],
      ['refresh', () => client.refresh('refresh-token')],
    ] as const) {
      const error = await run().then(
        () => null,
        (e: unknown) => e,
      )
      t.ok(error instanceof OAuthError, `${name}, ${call}: an OAuthError`)
      if (!(error instanceof OAuthError)) continue
      t.equal(error.kind, kind, `${name}, ${call}: ${kind}`)
      t.equal(error.message, message, `${name}, ${call}: says "${message}"`)
      t.ok(error.reason, `${name}, ${call}: a structured reason`)
      t.equal(reasonText(enT, storedReason(error), 'en'), message, `${name}, ${call}: stored and read back, the same words`)
      t.notSame(reasonText(nlT, storedReason(error), 'nl'), message, `${name}, ${call}: in Dutch, other words`)
      if (details) t.match(error.details, details, `${name}, ${call}: details for the code`)
    }
  }

  p.answer(RESET)
  const reset = await client.refresh('refresh-token').then(
    () => new OAuthError('refused', 'resolved'),
    (e: unknown) => e as OAuthError,
  )
  t.ok(reset.cause, 'the socket error stays on `cause`, for the logs')
})

t.test('meeting API: what the user reads', async (t) => {
  const p = await provider(t)
  const call = () => providerFetch(`${p.base}/users/me/meetings`, { method: 'POST' }, { timeoutMs: TIMEOUT_MS, providerName: 'Zoom' })

  const cases: [string, Answer, string, string, Record<string, unknown>?][] = [
    ['an HTML error page', raw(502, 'text/html', '<html>502 Bad Gateway</html>'), 'retry', 'Zoom answered with an error page, HTTP 502', { status: 502 }],
    ['garbage JSON', raw(200, 'application/json', '{"id": 81234567890, "join_url": "https://exa'), 'retry', 'Zoom sent an answer that could not be read', { status: 200 }],
    ['a hang', HANG, 'retry', 'Zoom did not answer within 0.3 seconds'],
    ['a reset', RESET, 'retry', 'Zoom could not be reached'],
    // Zoom's own body repeats the status as its code: said once, not "answered 429 (429)".
    ['429 (Zoom)', json(429, { code: 429, message: 'You have reached the maximum per-second rate limit.' }, { 'retry-after': '7' }), 'retry', 'Zoom reported too many requests, HTTP 429', { status: 429, code: '429', retryAfterMs: 7_000 }],
    ['429 (Graph)', json(429, { error: { code: 'TooManyRequests', message: 'Too many requests.' } }), 'retry', 'Zoom reported too many requests, HTTP 429, error code TooManyRequests'],
    ['503', json(503, { code: 503, message: 'Service Unavailable' }), 'retry', 'Zoom answered with a server error, HTTP 503'],
    ['401', json(401, { code: 124, message: 'Invalid access token.' }), 'reauth', 'Zoom no longer accepts the sign-in, HTTP 401, error code 124'],
    ['404', json(404, { code: 3001, message: 'Meeting does not exist' }), 'not_found', 'Zoom answered that it does not exist, HTTP 404, error code 3001'],
    ['400', json(400, { code: 300, message: 'Invalid' }), 'fail', 'Zoom refused the request, HTTP 400, error code 300'],
    ['400 as XML', raw(400, 'application/xml', '<error><code>300</code></error>'), 'fail', 'Zoom answered with an error that could not be read, HTTP 400'],
    ['a redirect', (_req, res) => res.writeHead(302, { location: 'https://example.test/login' }).end(), 'retry', 'Zoom redirected instead of answering, HTTP 302'],
  ]
  for (const [name, answer, kind, message, details] of cases) {
    p.answer(answer)
    const error = await call().then(
      () => null,
      (e: unknown) => e,
    )
    t.ok(error instanceof ProviderError, `${name}: a ProviderError`)
    if (!(error instanceof ProviderError)) continue
    t.equal(error.kind, kind, `${name}: ${kind}`)
    t.equal(error.message, message, `${name}: says "${message}"`)
    t.ok(error.reason, `${name}: a structured reason`)
    t.equal(reasonText(enT, storedReason(error), 'en'), message, `${name}: stored and read back, the same words`)
    t.notSame(reasonText(nlT, storedReason(error), 'nl'), message, `${name}: in Dutch, other words`)
    if (details) t.match(error.details, details, `${name}: details`)
  }

  p.answer(RESET)
  const reset = await call().then(
    () => new ProviderError('fail', 'resolved'),
    (e: unknown) => e as ProviderError,
  )
  t.ok(reset.cause, 'the socket error stays on `cause`, for the logs')

  // Without a name (tests, tools): "the provider".
  p.answer(HTML_502)
  const unnamed = await providerFetch(`${p.base}/x`, { method: 'GET' }, { timeoutMs: TIMEOUT_MS }).then(
    () => new ProviderError('fail', 'resolved'),
    (e: unknown) => e as ProviderError,
  )
  t.equal(unnamed.message, 'the provider answered with an error page, HTTP 502')
  t.equal(reasonText(nlT, storedReason(unnamed), 'nl'), 'de serviceleverancier antwoordde met een foutpagina, HTTP 502')

  // The Dutch words for a few, pinned too (decimal comma, "foutcode").
  p.answer(HANG)
  const hang = await call().then(
    () => new ProviderError('fail', 'resolved'),
    (e: unknown) => e as ProviderError,
  )
  t.equal(reasonText(nlT, storedReason(hang), 'nl'), 'Zoom gaf binnen 0,3 seconden geen antwoord')
  p.answer(json(429, { error: { code: 'TooManyRequests', message: 'Too many requests.' } }))
  const busy = await call().then(
    () => new ProviderError('fail', 'resolved'),
    (e: unknown) => e as ProviderError,
  )
  t.equal(reasonText(nlT, storedReason(busy), 'nl'), 'Zoom meldde te veel verzoeken, HTTP 429, foutcode TooManyRequests')
})
