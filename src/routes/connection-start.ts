import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * Sends a user to their organization provider's sign-in page. A plain form gets 303 to the provider; an htmx
 * (boosted) request gets HX-Redirect, since a fetch cannot follow a cross-origin redirect into a page.
 */
export async function sendToProviderSignIn(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<FastifyReply> {
  const organization = app.video.organization()
  if (!organization?.adapter.oauth) return reply.redirect(returnTo, 303)
  if (!app.video.registrations.status(organization.adapter.id).source) {
    // The app registration is missing or its secret no longer opens: only an administrator can fix that.
    request.flash('error', request.t('connection.notSetUp', { provider: organization.adapter.name }))
    return reply.redirect(returnTo, 303)
  }
  const url = await app.video.authorization.start(organization.adapter.id, {
    userId: request.user!.id,
    sessionId: request.session.sessionId,
    purpose: 'user',
    returnTo,
  })
  reply.header('cache-control', 'no-store')
  if (request.headers['hx-request'] === 'true') return reply.header('hx-redirect', url).code(200).send('')
  return reply.redirect(url, 303)
}
