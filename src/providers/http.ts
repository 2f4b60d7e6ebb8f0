import { ProviderError, type ApiClient } from './contract.js'

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

/** A timeout in words for messages: "1 second", "0.5 seconds", "30 seconds". */
export function durationText(ms: number): string {
  const seconds = Number((ms / 1000).toFixed(2))
  if (seconds <= 0) return `${ms} milliseconds`
  return `${seconds} second${seconds === 1 ? '' : 's'}`
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
 * Calls a provider with a bounded timeout and turns every failure into a classified ProviderError. Its message is
 * a sentence fragment users read ("Video link pending: Zoom did not answer (…)", "…at Zoom: …"): plain words, the
 * HTTP status once, the provider's error code only when it adds something, and nothing internal (the socket
 * error stays on `cause`, for the logs).
 */
export async function providerFetch(url: string, init: RequestInit, options: HttpOptions): Promise<{ status: number; headers: Headers; body: unknown }> {
  const who = options.providerName || 'the provider'
  let res: Response
  try {
    res = await (options.fetch ?? fetch)(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) })
  } catch (error) {
    const timeout = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError'
    const failure = new ProviderError('retry', timeout ? `${who} did not answer within ${durationText(options.timeoutMs)}` : `${who} could not be reached`)
    failure.cause = error
    throw failure
  }
  let text: string
  try {
    text = await res.text()
  } catch (error) {
    // The status line came, the body did not (timeout or the connection broke off): the answer is lost.
    const timeout = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError'
    const failure = new ProviderError('retry', timeout ? `${who} did not answer within ${durationText(options.timeoutMs)}` : `the connection to ${who} broke off during its answer`, { status: res.status })
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
  if (res.ok && unreadable) throw new ProviderError('retry', `${who} sent an answer that could not be read`, { status: res.status })
  if (res.ok) return { status: res.status, headers: res.headers, body }
  const code = errorCode(body)
  const details = { status: res.status, ...(code !== undefined && { code }) }
  // Zoom repeats the status as its code ({"code": 429}): said once.
  const http = `HTTP ${res.status}${code !== undefined && code !== String(res.status) ? `, error code ${code}` : ''}`
  // An error page from a proxy or gateway says nothing more than its status; other bodies say the status's meaning.
  const page = unreadable && /html/i.test(type) ? `${who} answered with an error page, ${http}` : undefined
  if (res.status === 401) throw new ProviderError('reauth', page ?? `${who} no longer accepts the sign-in, ${http}`, details)
  if (res.status === 404 || res.status === 410) throw new ProviderError('not_found', page ?? `${who} answered that it does not exist, ${http}`, details)
  if (res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500) {
    const message =
      page ?? (res.status === 429 ? `${who} reported too many requests, ${http}` : res.status >= 500 ? `${who} answered with a server error, ${http}` : `${who} asked to try again later, ${http}`)
    throw new ProviderError('retry', message, { ...details, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) })
  }
  if (res.status >= 300 && res.status < 400) throw new ProviderError('retry', `${who} redirected instead of answering, HTTP ${res.status}`, details)
  throw new ProviderError('fail', page ?? (unreadable ? `${who} answered with an error that could not be read, ${http}` : `${who} refused the request, ${http}`), details)
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
