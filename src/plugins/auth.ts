import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { User } from '../db/repositories/users.js'
import { ForbiddenError } from '../errors.js'

/**
 * Who is signed in: `request.user` for every request whose session names an active user. A user deactivated or
 * deleted meanwhile loses the session at once. The guards below build on it.
 */
export const authPlugin = fp(
  async function auth(app: FastifyInstance) {
    app.decorateRequest('user', null)
    app.addHook('preHandler', async (request) => {
      const userId = request.session?.userId
      if (typeof userId !== 'number') return
      const user = app.services.users.findById(userId)
      if (user?.active) request.user = user
      else await request.session.regenerate()
    })
  },
  { name: 'auth', dependencies: ['@fastify/session'] },
)

/** A new session id at every sign-in (no fixation); the CSRF token is renewed with it. */
export async function signIn(request: FastifyRequest, userId: number): Promise<void> {
  await request.session.regenerate()
  request.session.userId = userId
}

/** preHandler: a signed-in user, else to the sign-in page (and back here afterwards, for GET). */
export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.user) return
  const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : ''
  if (request.headers['hx-request'] === 'true') {
    await reply.header('hx-redirect', `/sign-in${next}`).code(204).send()
    return
  }
  await reply.redirect(`/sign-in${next}`, 303)
}

/** preHandler: administrators only; a signed-in user gets 403. */
export async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await requireUser(request, reply)
  if (reply.sent) return
  if (request.user?.role !== 'admin') throw new ForbiddenError('Administrators only')
}

/** Only local paths are followed after sign-in, so ?next= cannot send anyone to another site. */
export function safeNext(value: unknown, fallback = '/'): string {
  // Printable ASCII only: anything else cannot go into a Location header (and has no place in our paths).
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !value.startsWith('/sign-') ? value : fallback
}

/**
 * The signed-in user of a request in a signed-in scope (see `signedIn`): typed, so handlers need no `user!`.
 * Reaching it outside such a scope is a bug in the route, not something a visitor can cause.
 */
export function currentUser(request: FastifyRequest): User {
  if (!request.user) throw new Error(`${request.method} ${request.routeOptions.url}: currentUser() outside a signed-in scope`)
  return request.user
}

/** Who did it, as the audit log records it. */
export function actorOf(user: User): { id: number; name: string } {
  return { id: user.id, name: user.name }
}

/** A scope whose every route needs a signed-in user (`admin`: an administrator): register routes inside it. */
export function signedIn(role: 'user' | 'admin', routes: (app: FastifyInstance) => Promise<void>) {
  return async function scope(app: FastifyInstance): Promise<void> {
    app.addHook('preHandler', role === 'admin' ? requireAdmin : requireUser)
    await routes(app)
  }
}
