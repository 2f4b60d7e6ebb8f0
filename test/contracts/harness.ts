/**
 * Runs an adapter against its fake the way test/providers/*.test.ts do (helpers.connect, the adapter's own
 * calls), through an ApiClient whose fetch records every answer, then checks every API request the fake
 * received and every answer it gave against the provider's spec.
 *
 * Known disagreements (the adapter or the fake departs from the spec today) are listed per provider as
 * { match, todo }: violations whose text matches go into one tap `todo` assertion of their own, so the suite
 * stays green while the defect stays visible; every other violation fails.
 */
import type { Test } from 'tap'
import type { ApiClient, ProviderAdapter } from '../../src/providers/contract.js'
import { createApiClient } from '../../src/providers/http.js'
import type { ProviderFake, RecordedRequest } from '../fakes/common.js'
import { connect, type Connection } from '../providers/helpers.js'
import { recordingFetch, type Exchange, type Spec } from './spec.js'

export interface Known {
  /** Matches the violation text (see Spec.checkRequest / checkResponse). */
  match: RegExp
  /** "spec says …; fix in …" */
  todo: string
}

/** One assertion for the violations nobody expects, one todo assertion per known disagreement. */
export function judge(t: Test, label: string, violations: string[], known: Known[]): void {
  let rest = violations
  for (const k of known) {
    const hits = rest.filter((v) => k.match.test(v))
    rest = rest.filter((v) => !k.match.test(v))
    if (hits.length > 0) t.strictSame(hits, [], `${label}: known disagreement`, { todo: k.todo })
  }
  t.strictSame(rest, [], `${label} conforms to the spec`)
}

export interface Session {
  connection: Connection
  api: ApiClient
  exchanges: Exchange[]
  /** Index into fake.requests where this session's API traffic starts. */
  from: number
}

/** Connects like the provider tests, with an ApiClient that records the fake's answers. */
export async function session(fake: ProviderFake, adapter: ProviderAdapter, timeoutMs = 2000): Promise<Session> {
  const connection = await connect(fake, adapter)
  const rec = recordingFetch()
  const api = createApiClient(connection.endpoints.apiUrl, connection.accessToken, { timeoutMs, fetch: rec.fetch })
  return { connection, api, exchanges: rec.exchanges, from: fake.requests.length }
}

/** The fake's requests since `from` that were API calls (not authorize / token / revoke). */
export function apiRequests(fake: ProviderFake, from: number, spec: Spec): RecordedRequest[] {
  return fake.requests.slice(from).filter((r) => r.path.startsWith(spec.fixture.basePath + '/'))
}

/** Checks every API request the fake received since the session began and every answer recorded. */
export function checkSession(t: Test, fake: ProviderFake, s: Session, spec: Spec, known: Known[], expectAtLeast = 1): void {
  const requests = apiRequests(fake, s.from, spec)
  t.ok(requests.length >= expectAtLeast, `${requests.length} API requests to check`)
  for (const r of requests) {
    const op = spec.operation(r.method, r.path)
    judge(t, `request ${op ? `${op.op.method} ${op.op.path}` : `${r.method} ${r.path}`}${Object.keys(r.query).length ? ` ?${Object.keys(r.query).join('&')}` : ''}`, spec.checkRequest(r), known)
  }
  t.ok(s.exchanges.length >= expectAtLeast, `${s.exchanges.length} answers to check`)
  for (const x of s.exchanges) {
    const op = spec.operation(x.method, x.url.pathname)
    judge(t, `answer ${x.status} to ${op ? `${op.op.method} ${op.op.path}` : `${x.method} ${x.url.pathname}`}`, spec.checkResponse(x.method, x.url.pathname, x.status, x.body), known)
  }
}

/**
 * Error answers: each fault status the fakes can give (knob apiStatus), one call each; the answer's body is
 * checked against the spec's schema for that status (or its default error schema). Statuses the spec does
 * not list are noted, not failed: the specs list few error statuses, and the clouds send more.
 */
export async function checkErrorAnswers(
  t: Test,
  fake: ProviderFake,
  adapter: ProviderAdapter,
  spec: Spec,
  call: (api: ApiClient) => Promise<unknown>,
  statuses: number[],
  known: Known[],
): Promise<void> {
  for (const status of statuses) {
    const s = await session(fake, adapter)
    fake.knobs.apiStatus = status
    fake.knobs.apiFaultCount = 1
    try {
      await call(s.api).catch(() => undefined)
    } finally {
      fake.reset()
    }
    const x = s.exchanges.find((e) => e.status === status)
    if (!x) {
      t.fail(`no ${status} answer was recorded`)
      continue
    }
    const found = spec.operation(x.method, x.url.pathname)
    if (!found) {
      judge(t, `answer ${status}`, [`${x.method} ${x.url.pathname}: no such operation in the spec`], known)
      continue
    }
    const listed = String(status) in found.op.responses || 'default' in found.op.responses
    if (!listed) {
      t.comment(`${found.op.method} ${found.op.path}: the spec lists no ${status} answer; its body is not checked`)
      continue
    }
    judge(t, `error answer ${status} to ${found.op.method} ${found.op.path}`, spec.checkResponse(x.method, x.url.pathname, x.status, x.body), known)
  }
}
