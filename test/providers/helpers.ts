/**
 * Test helpers for the provider adapters: a real access token from a provider fake (authorize → token with a
 * PKCE S256 pair, the adapter's own scopes, authorize parameters and client-authentication style), an API
 * client for it, and the fault matrix every adapter must classify the same way.
 */
import type { Test } from 'tap'
import { ProviderError, type ApiClient, type ProviderAdapter, type ProviderEndpoints, type ProviderErrorKind, type ProviderSettings } from '../../src/providers/contract.js'
import { createApiClient } from '../../src/providers/http.js'
import { PROVIDER_MODULES } from '../../src/providers/registry.js'
import { newPkcePair, sleep, type Knobs, type ProviderFake } from '../fakes/common.js'

export const REDIRECT_URI = 'http://127.0.0.1:3999/oauth/callback'

export function endpointsOf(fake: ProviderFake, prefix: string): ProviderEndpoints {
  const get = (name: string) => {
    const value = fake.env[`${prefix}_${name}`]
    if (value === undefined) throw new Error(`the fake has no ${prefix}_${name}`)
    return value
  }
  const revoke = get('REVOKE_URL')
  return { authorizeUrl: get('AUTHORIZE_URL'), tokenUrl: get('TOKEN_URL'), revokeUrl: revoke || null, userinfoUrl: get('USERINFO_URL'), apiUrl: get('API_URL') }
}

export interface Connection {
  endpoints: ProviderEndpoints
  tokenResponse: Record<string, unknown>
  accessToken: string
  /** An API client on the fake's API URL with a 2 s timeout (or the one given). */
  api(timeoutMs?: number): ApiClient
}

/** Signs in at the fake the way the app does and redeems the code; throws when the fake does not hand one out. */
export async function connect(fake: ProviderFake, adapter: ProviderAdapter): Promise<Connection> {
  const oauth = adapter.oauth
  if (!oauth) throw new Error(`${adapter.id} has no OAuth`)
  const cloud = PROVIDER_MODULES.find((module) => module.id === adapter.id)?.cloud
  if (!cloud) throw new Error(`${adapter.id} has no cloud endpoints`)
  const endpoints = endpointsOf(fake, cloud.envPrefix)
  const pkce = newPkcePair()
  const authorize = new URL(endpoints.authorizeUrl)
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: fake.clientId,
    redirect_uri: REDIRECT_URI,
    state: 'test-state',
    scope: oauth.scopes.join(' '),
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...oauth.authorizeParams,
  }
  for (const [key, value] of Object.entries(params)) authorize.searchParams.set(key, value)
  const res = await fetch(authorize, { redirect: 'manual' })
  const location = res.headers.get('location')
  const code = location ? new URL(location).searchParams.get('code') : null
  if (!code) throw new Error(`authorize answered ${res.status} without a code (${location ?? (await res.text()).slice(0, 300)})`)

  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier }
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  if (oauth.clientAuth === 'header') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(fake.clientId)}:${encodeURIComponent(fake.clientSecret)}`).toString('base64')}`
  } else {
    form.client_id = fake.clientId
    form.client_secret = fake.clientSecret
  }
  const tokenRes = await fetch(endpoints.tokenUrl, { method: 'POST', headers, body: new URLSearchParams(form).toString() })
  const tokenResponse = (await tokenRes.json()) as Record<string, unknown>
  if (tokenRes.status !== 200 || typeof tokenResponse.access_token !== 'string') {
    throw new Error(`token endpoint answered ${tokenRes.status}: ${JSON.stringify(tokenResponse)}`)
  }
  const accessToken = tokenResponse.access_token
  return {
    endpoints,
    tokenResponse,
    accessToken,
    api: (timeoutMs = 2000) => createApiClient(endpoints.apiUrl, accessToken, { timeoutMs }),
  }
}

/** Settings as the browser would post them: checkboxes present ("on") only when true. */
export function asForm(settings: ProviderSettings): Record<string, string | undefined> {
  const form: Record<string, string | undefined> = {}
  for (const [key, value] of Object.entries(settings)) {
    if (value === true) form[key] = 'on'
    else if (typeof value === 'string') form[key] = value
  }
  return form
}

/** Awaits a promise that must reject with a ProviderError of this kind; returns the error for more checks. */
export async function rejectsWith(t: Test, promise: Promise<unknown>, kind: ProviderErrorKind, message?: string): Promise<ProviderError> {
  try {
    await promise
  } catch (error) {
    t.ok(error instanceof ProviderError, `${message ?? kind}: a ProviderError`)
    const e = error as ProviderError
    t.equal(e.kind, kind, `${message ?? kind}: kind ${kind} (${e.message})`)
    return e
  }
  t.fail(`${message ?? kind}: expected a rejection`)
  return new ProviderError('fail', 'no rejection')
}

export interface FaultCase {
  name: string
  knobs: Partial<Knobs>
  kind: ProviderErrorKind
  status?: number
  retryAfterMs?: number
  /** A short client timeout (timeout case). */
  timeoutMs?: number
}

/** The fault knobs every fake has, and what the app must make of them. */
export const FAULTS: FaultCase[] = [
  { name: '429 with Retry-After', knobs: { apiStatus: 429, retryAfterSeconds: 7 }, kind: 'retry', status: 429, retryAfterMs: 7000 },
  { name: '503', knobs: { apiStatus: 503 }, kind: 'retry', status: 503 },
  { name: 'an HTML gateway page', knobs: { apiHtmlBody: true }, kind: 'retry', status: 502 },
  { name: 'an XML body with 200', knobs: { apiXmlBody: true, apiStatus: 200 }, kind: 'retry' },
  { name: 'truncated JSON', knobs: { apiGarbageJson: true }, kind: 'retry' },
  { name: 'an invalid access token', knobs: { apiInvalidToken: true }, kind: 'reauth', status: 401 },
  { name: 'no answer before the timeout', knobs: { apiDelayMs: 500 }, kind: 'retry', timeoutMs: 150 },
]

/** Runs `operation` once per fault case against a fresh fault on the fake and checks the classification. */
export async function checkFaults(
  t: Test,
  fake: ProviderFake,
  connection: Connection,
  operation: (api: ApiClient) => Promise<unknown>,
  cases: FaultCase[] = FAULTS,
): Promise<void> {
  for (const c of cases) {
    fake.reset()
    Object.assign(fake.knobs, c.knobs)
    const error = await rejectsWith(t, operation(connection.api(c.timeoutMs)), c.kind, c.name)
    if (c.status !== undefined) t.equal(error.details.status, c.status, `${c.name}: status ${c.status}`)
    if (c.retryAfterMs !== undefined) t.equal(error.details.retryAfterMs, c.retryAfterMs, `${c.name}: Retry-After honoured`)
    fake.reset()
  }
}

/** A meeting input in the near future (Webex refuses the past), on whole minutes. */
export function futureMeeting(over: Partial<{ title: string; description: string; minutes: number; daysAhead: number; requestId: string; timeZone: string }> = {}) {
  const start = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + (over.daysAhead ?? 2) * 86_400_000)
  return {
    title: over.title ?? 'Follow-up: contract renewal',
    description: over.description ?? 'Talk about the renewal.',
    start,
    end: new Date(start.getTime() + (over.minutes ?? 45) * 60_000),
    timeZone: over.timeZone ?? 'Europe/Amsterdam',
    requestId: over.requestId ?? `req-${Math.random().toString(36).slice(2)}`,
  }
}

/** The fake's meetings that mention this request id anywhere (externalId, integration tag, agenda marker). */
export function meetingsOfRequest(fake: ProviderFake, requestId: string): Record<string, any>[] {
  return [...fake.meetings.values()].filter((m) => JSON.stringify(m).includes(requestId))
}

/**
 * Runs a create whose answer is lost: the fake carries it out, but only after the client gave up (apiDelayMs
 * beyond the client's timeout), as when a connection times out after the request went through. Waits until
 * the fake holds the meeting, and returns it.
 */
export async function createWithLostAnswer(
  t: Test,
  fake: ProviderFake,
  connection: Connection,
  requestId: string,
  create: (api: ApiClient) => Promise<unknown>,
): Promise<Record<string, any>> {
  fake.knobs.apiDelayMs = 300
  try {
    await rejectsWith(t, create(connection.api(100)), 'retry', 'the create answer is lost')
    const deadline = Date.now() + 5000
    while (meetingsOfRequest(fake, requestId).length === 0 && Date.now() < deadline) await sleep(20)
  } finally {
    fake.reset()
  }
  const made = meetingsOfRequest(fake, requestId)
  t.equal(made.length, 1, 'the provider made the meeting all the same')
  return made[0] ?? {}
}
