import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface SecurityHeaderOptions {
  https: boolean
  /**
   * Origins a form may lead to. Chrome applies CSP form-action to the redirect that follows a form POST, so the
   * providers' authorization origins must be listed or "Choose Zoom" → 302 to zoom.us is blocked.
   */
  formActionOrigins: () => string[]
}

export function contentSecurityPolicy(https: boolean, formActionOrigins: string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    `form-action ${["'self'", ...formActionOrigins].join(' ')}`,
    // Only under https: on a plain-http LAN install it would send every asset to a port nobody listens on.
    ...(https ? ['upgrade-insecure-requests'] : []),
  ].join('; ')
}

/** The same strict headers on every response; the CSP has no unsafe-inline and no unsafe-eval anywhere. */
export const securityHeadersPlugin = fp(
  async function securityHeaders(app: FastifyInstance, options: SecurityHeaderOptions) {
    let cachedFor = ''
    let cachedPolicy = ''
    // A plain callback hook, not an async one: it runs on every response, and a promise per response costs.
    app.addHook('onSend', (_request, reply, payload, done) => {
      const origins = options.formActionOrigins()
      const key = origins.join(' ')
      if (key !== cachedFor || !cachedPolicy) {
        cachedPolicy = contentSecurityPolicy(options.https, origins)
        cachedFor = key
      }
      reply.header('content-security-policy', cachedPolicy)
      reply.header('x-content-type-options', 'nosniff')
      reply.header('x-frame-options', 'DENY')
      if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin')
      reply.header('cross-origin-opener-policy', 'same-origin')
      reply.header('cross-origin-resource-policy', 'same-origin')
      reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()')
      if (options.https) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains')
      const type = reply.getHeader('content-type')
      if (typeof type === 'string' && type.startsWith('text/html') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
      done(null, payload)
    })
  },
  { name: 'security-headers' },
)
