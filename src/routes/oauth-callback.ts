import type { FastifyInstance } from 'fastify'
import { PROVIDER_IDS, type ProviderId } from '../providers/contract.js'
import { requireUser } from '../plugins/guards.js'
import { ForbiddenError, NotFoundError } from '../errors.js'
import { failureMessage } from './settings/video-meetings.js'

const CONFIGURE = '/settings/video-meetings/configure'

/**
 * The providers' redirect back: GET /oauth/<provider>/callback, one path per provider (the state must belong
 * to it). Always answers 303 to a clean URL, so the code never stays in the address bar or history.
 */
export default async function oauthCallbackRoutes(app: FastifyInstance) {
  app.get<{ Params: { provider: string }; Querystring: Record<string, string | undefined> }>(
    '/oauth/:provider/callback',
    { preHandler: requireUser },
    async (request, reply) => {
      const id = request.params.provider as ProviderId
      const adapter = (PROVIDER_IDS as readonly string[]).includes(id) ? app.video.adapter(id) : undefined
      if (!adapter?.oauth) throw new NotFoundError()
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
      const query = Object.fromEntries(Object.entries(request.query).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]))
      const outcome = await app.video.completeAuthorization(id, query, {
        sessionId: request.session.sessionId,
        actor: { id: request.user!.id, name: request.user!.name },
        isAdmin: request.user!.role === 'admin',
      })
      if (!outcome.ok && outcome.failure.reason === 'forbidden') throw new ForbiddenError()
      const returnTo = outcome.purpose === 'organization' || outcome.purpose === null ? CONFIGURE : outcome.returnTo || '/preferences/video-meetings'
      if (outcome.ok) {
        if (!outcome.replay) {
          request.flash('success', outcome.account ? request.t('video.configured.connected', { provider: adapter.name, account: outcome.account }) : request.t('video.configured.connectedNoAccount', { provider: adapter.name }))
        }
      } else {
        request.log.info({ provider: id, reason: outcome.failure.reason }, 'provider connection refused')
        request.flash('error', failureMessage(request, adapter.name, outcome.failure))
      }
      return reply.redirect(returnTo, 303)
    },
  )
}
