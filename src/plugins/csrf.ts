import crypto from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

export class CsrfError extends Error {
  readonly statusCode = 403
  constructor() {
    super('CSRF token missing or wrong')
    this.name = 'CsrfError'
  }
}

export class UnsupportedMediaTypeError extends Error {
  readonly statusCode = 415
  constructor() {
    super('Only form submissions (application/x-www-form-urlencoded) are accepted here')
    this.name = 'UnsupportedMediaTypeError'
  }
}

export const CSRF_FIELD = '_csrf'
export const CSRF_HEADER = 'x-csrf-token'

/** The session's synchronizer token, created on first use (which is what saves an anonymous session). */
export function csrfToken(request: FastifyRequest): string {
  request.session.csrfToken ??= crypto.randomBytes(32).toString('base64url')
  return request.session.csrfToken
}

function sameToken(a: unknown, b: string | undefined): boolean {
  if (typeof a !== 'string' || !b) return false
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && crypto.timingSafeEqual(left, right)
}

/**
 * Every state-changing request must carry the session's token: forms in a hidden field, htmx in a header
 * (from hx-headers on <body>). Runs before validation, so a forged request changes nothing.
 */
export const csrfPlugin = fp(
  async function csrf(app: FastifyInstance) {
    // The UI only ever posts urlencoded forms: JSON or text bodies are refused before they are parsed, so no
    // form handler ever meets a body shape it was not written for.
    app.addHook('onRequest', async (request) => {
      if (request.method !== 'POST' || request.routeOptions.config?.csrf === false || !request.routeOptions.url) return
      const type = String(request.headers['content-type'] ?? '').toLowerCase()
      if (!type.startsWith('application/x-www-form-urlencoded')) throw new UnsupportedMediaTypeError()
    })
    app.addHook('preHandler', async (request) => {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return
      if (request.routeOptions.config.csrf === false) return
      const body = request.body as Record<string, unknown> | undefined
      const field = body && typeof body === 'object' ? body[CSRF_FIELD] : undefined
      const expected = request.session?.csrfToken
      if (!sameToken(request.headers[CSRF_HEADER], expected) && !sameToken(field, expected)) throw new CsrfError()
    })
  },
  { name: 'csrf', dependencies: ['@fastify/session'] },
)
