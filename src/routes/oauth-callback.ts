import type { FastifyInstance } from 'fastify'
import { failureMessage } from '../connections/failure-message.js'
import { currentUser, actorOf, safeNext } from '../plugins/auth.js'
import { ForbiddenError, NotFoundError } from '../errors.js'
import { INLINE_SYNC_BUDGET_MS } from '../meetings/sync.js'
import { CONFIGURE, PREFERENCES_VIDEO } from './urls.js'

/**
 * The providers' redirect back (prefix /oauth, signed in): GET /oauth/<provider>/callback, one path per provider
 * (the state must belong to it). Always answers 303 to a clean URL, so the code never stays in the address bar.
 */
export default async function oauthCallbackRoutes(app: FastifyInstance) {
  const { video, followUps, meetings } = app.services

  app.get<{ Params: { provider: string }; Querystring: Record<string, string | undefined> }>('/:provider/callback', async (request, reply) => {
    const id = request.params.provider
    const adapter = video.adapter(id)
    if (!adapter?.oauth) throw new NotFoundError()
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer')
    const query = Object.fromEntries(Object.entries(request.query).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]))
    const user = currentUser(request)
    const outcome = await video.authorization.complete(id, query, { sessionId: request.session.sessionId, actor: actorOf(user), isAdmin: user.role === 'admin' })
    if (!outcome.ok && outcome.failure.reason === 'forbidden') throw new ForbiddenError()
    const userFlow = outcome.purpose === 'user'
    const returnTo = userFlow ? safeNext(outcome.returnTo, PREFERENCES_VIDEO) : CONFIGURE

    if (outcome.ok === 'confirm') {
      request.session.heldSignIn = { state: outcome.state, account: outcome.account, previous: outcome.previous, provider: adapter.name }
      return reply.redirect(`${PREFERENCES_VIDEO}/replace`, 303)
    }
    if (!outcome.ok) {
      request.log.info({ provider: id, reason: outcome.failure.reason }, 'provider connection refused')
      request.flash('error', failureMessage(request.t, request.language, adapter.name, outcome.failure))
      return reply.redirect(returnTo, 303)
    }
    if (!outcome.replay) {
      const account = outcome.account
      request.flash('success', account ? request.t('video.configured.connected', { provider: adapter.name, account }) : request.t('video.configured.connectedNoAccount', { provider: adapter.name }))
    }
    // The follow-up that sent the user here was saved first; its meeting is created now.
    const followUp = /^\/follow-ups\/(\d+)$/.exec(returnTo)
    if (userFlow && followUp && followUps.getForUser(Number(followUp[1]), user.id)) {
      await meetings.syncNow(Number(followUp[1]), INLINE_SYNC_BUDGET_MS)
    }
    return reply.redirect(returnTo, 303)
  })
}
