import { ProviderError, type ApiClient } from './contract.js'
import { secondsOf, type Reason } from './reason.js'
import { translator } from '../i18n/index.js'

export interface HttpOptions {
  timeoutMs: number
  /** How messages name the provider ("Zoom answered with a server error, HTTP 503"); "the provider" by default. */
  providerName?: string
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch
}

/** Retry-After as seconds or an HTTP date, capped so a hostile value cannot park a job for a year. */
export function retryAfterMs(header: string | null, fallbackMs = 30_000): number {
  if (!header) return fallbackMs
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 1000), 3_600_000) : fallbackMs
}

/** A timeout in English words, as reasons say it: "1 second", "0.5 seconds", "30 seconds". */
export function durationText(ms: number): string {
  const seconds = secondsOf(ms)
  const t = translator('en')
  return seconds === 1 ? t('reason.seconds.one') : t('reason.seconds.other', { seconds })
}

function errorCode(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  const nested = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : undefined
  // Google puts the useful part in error.errors[0].reason (insufficientPermissions, rateLimitExceeded).
  const reasons = Array.isArray(nested?.errors) ? (nested.errors as { reason?: unknown }[]) : []
  const reason = typeof reasons[0]?.reason === 'string' ? reasons[0].reason : undefined
  const code = b.code ?? reason ?? (typeof nested?.code === 'string' ? nested.code : undefined) ?? nested?.status ?? nested?.code ?? (typeof b.error === 'string' ? b.error : undefined)
  return code === undefined ? undefined : String(code)
}

/**
 * Calls a provider with a bounded timeout and turns every failure into a classified ProviderError. Its reason
 * (reason.ts) is what users read, in their language ("Video link pending: Zoom did not answer within 1 second.",
 * "…at Zoom: …"): plain words, the HTTP status once, the provider's error code only when it adds something, and
 * nothing internal (the socket error stays on `cause`, for the logs). The message is its English rendering.
 */
export async function providerFetch(url: string, init: RequestInit, options: HttpOptions): Promise<{ status: number; headers: Headers; body: unknown }> {
  // Unnamed (tests, tools): "the provider".
  const who = options.providerName ? { provider: options.providerName } : {}
  const timedOut = (): Reason => ({ code: 'timeout', ...who, seconds: secondsOf(options.timeoutMs) })
  let res: Response
  try {
    res = await (options.fetch ?? fetch)(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) })
  } catch (error) {
    const timeout = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError'
    const failure = new ProviderError('retry', timeout ? timedOut() : { code: 'unreachable', ...who })
    failure.cause = error
    throw failure
  }
  let text: string
  try {
    text = await res.text()
  } catch (error) {
    // The status line came, the body did not (timeout or the connection broke off): the answer is lost.
    const timeout = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError'
    const failure = new ProviderError('retry', timeout ? timedOut() : { code: 'broken_off', ...who }, { status: res.status })
    failure.cause = error
    throw failure
  }
  const type = res.headers.get('content-type') ?? ''
  let body: unknown = null
  /** A body came that is not JSON, or JSON that does not parse. */
  let unreadable = false
  if (text) {
    if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
      try {
        body = JSON.parse(text)
      } catch {
        unreadable = true
      }
    } else {
      unreadable = true
    }
  }
  if (res.ok && unreadable) throw new ProviderError('retry', { code: 'unreadable', ...who }, { status: res.status })
  if (res.ok) return { status: res.status, headers: res.headers, body }
  const code = errorCode(body)
  const details = { status: res.status, ...(code !== undefined && { code }) }
  // Zoom repeats the status as its code ({"code": 429}): said once.
  const http = { status: res.status, ...(code !== undefined && code !== String(res.status) && { errorCode: code }) }
  const said = (what: Reason['code']): Reason => ({ code: what, ...who, ...http })
  // An error page from a proxy or gateway says nothing more than its status; other bodies say the status's meaning.
  const page = unreadable && /html/i.test(type) ? said('error_page') : undefined
  if (res.status === 401) throw new ProviderError('reauth', page ?? said('reauth'), details)
  if (res.status === 404 || res.status === 410) throw new ProviderError('not_found', page ?? said('not_found'), details)
  // 423 Locked (Webex: the meeting is being changed elsewhere) passes like the others, after its Retry-After.
  if (res.status === 408 || res.status === 423 || res.status === 425 || res.status === 429 || res.status >= 500) {
    const reason = page ?? said(res.status === 429 ? 'too_many_requests' : res.status >= 500 ? 'server_error' : 'try_later')
    throw new ProviderError('retry', reason, { ...details, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) })
  }
  if (res.status >= 300 && res.status < 400) throw new ProviderError('retry', { code: 'redirected', ...who, status: res.status }, details)
  throw new ProviderError('fail', page ?? said(unreadable ? 'error_unreadable' : 'refused'), details)
}

/** An ApiClient for one access token. */
export function createApiClient(apiUrl: string, accessToken: string, options: HttpOptions): ApiClient {
  return {
    async request<T>(method: string, path: string, body?: unknown, query?: Record<string, string>) {
      const target = new URL(/^https?:\/\//.test(path) ? path : `${apiUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`)
      for (const [key, value] of Object.entries(query ?? {})) target.searchParams.set(key, value)
      const headers: Record<string, string> = { authorization: `Bearer ${accessToken}`, accept: 'application/json' }
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await providerFetch(target.href, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) }, options)
      return { status: res.status, body: res.body as T }
    },
  }
}
