import { ProviderError, type ApiClient } from './contract.js'

export interface HttpOptions {
  timeoutMs: number
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

/** Calls a provider with a bounded timeout and turns every failure into a classified ProviderError. */
export async function providerFetch(url: string, init: RequestInit, options: HttpOptions): Promise<{ status: number; headers: Headers; body: unknown }> {
  let res: Response
  try {
    res = await (options.fetch ?? fetch)(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs) })
  } catch (error) {
    const timeout = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError'
    throw new ProviderError('retry', timeout ? `no answer within ${options.timeoutMs} ms` : `could not reach the provider (${(error as Error)?.message ?? 'network error'})`)
  }
  const text = await res.text().catch(() => '')
  const type = res.headers.get('content-type') ?? ''
  let body: unknown = null
  if (text) {
    if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
      try {
        body = JSON.parse(text)
      } catch {
        if (res.ok) throw new ProviderError('retry', `the provider answered ${res.status} with a body that is not valid JSON`, { status: res.status })
      }
    } else if (res.ok) {
      throw new ProviderError('retry', `the provider answered ${res.status} with ${type || 'an unknown content type'} instead of JSON`, { status: res.status })
    }
  }
  if (res.ok) return { status: res.status, headers: res.headers, body }
  const code = errorCode(body)
  const details = { status: res.status, ...(code !== undefined && { code }) }
  const message = `the provider answered ${res.status}${code ? ` (${code})` : ''}`
  if (res.status === 401) throw new ProviderError('reauth', message, details)
  if (res.status === 404 || res.status === 410) throw new ProviderError('not_found', message, details)
  if (res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500) {
    throw new ProviderError('retry', message, { ...details, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) })
  }
  if (res.status >= 300 && res.status < 400) throw new ProviderError('retry', `the provider redirected (${res.status}) instead of answering`, details)
  throw new ProviderError('fail', message, details)
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
