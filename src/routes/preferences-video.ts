import type { FastifyInstance } from 'fastify'
import { FormReader } from '../forms.js'
import { NotFoundError } from '../errors.js'
import { requireUser, safeNext } from '../plugins/guards.js'
import { sendToProviderSignIn } from './connection-start.js'
import { PREFERENCES_VIDEO } from './oauth-callback.js'

/** Preferences → Video meetings: the user's own connection to the organization's provider. */
export default async function preferencesVideoRoutes(app: FastifyInstance) {
  app.addHook('preHandler', requireUser)
  const actor = (user: { id: number; name: string }) => ({ id: user.id, name: user.name })

  app.get(PREFERENCES_VIDEO, async (request, reply) => {
    const organization = app.video.organization()
    const connection = organization ? app.connections.checkedForUser(request.user!.id, organization.provider) : undefined
    return reply.render('pages/preferences/video-meetings', { tab: 'video-meetings', organization, connection })
  })

  app.post(`${PREFERENCES_VIDEO}/connect`, async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const returnTo = safeNext(f.text('returnTo', { max: 200 }), PREFERENCES_VIDEO)
    if (!app.video.organization()?.adapter.oauth) return reply.redirect(PREFERENCES_VIDEO, 303)
    return sendToProviderSignIn(app, request, reply, returnTo)
  })

  app.post(`${PREFERENCES_VIDEO}/disconnect`, async (request, reply) => {
    const organization = app.video.organization()
    const connection = organization && app.connections.findForUser(request.user!.id, organization.provider)
    if (connection) {
      const result = await app.video.connectionRemoval.remove(connection.id, actor(request.user!))
      if (result) request.flash('success', request.t('connection.disconnected', { provider: result.provider }))
    }
    return reply.redirect(PREFERENCES_VIDEO, 303)
  })

  // Signed in as another account than the connection's: confirm before replacing.
  app.get(`${PREFERENCES_VIDEO}/replace`, async (request, reply) => {
    const held = request.session.heldSignIn
    if (!held) throw new NotFoundError()
    return reply.render('pages/preferences/video-replace', { tab: 'video-meetings', held })
  })

  app.post(`${PREFERENCES_VIDEO}/replace`, async (request, reply) => {
    const held = request.session.heldSignIn
    if (!held) return reply.redirect(PREFERENCES_VIDEO, 303)
    delete request.session.heldSignIn
    const f = new FormReader(request.body, request.t)
    const decision = f.choice('decision', ['replace', 'keep'] as const, 'keep')
    const who = { sessionId: request.session.sessionId, actor: actor(request.user!) }
    if (decision === 'replace') {
      const done = await app.video.authorization.confirmHeldSignIn(held.state, who)
      if (done) {
        request.flash('success', request.t('connection.replaced', { provider: held.provider, account: held.account }))
        return reply.redirect(safeNext(done.returnTo, PREFERENCES_VIDEO), 303)
      }
      return reply.redirect(PREFERENCES_VIDEO, 303)
    }
    await app.video.authorization.discardHeldSignIn(held.state, who)
    request.flash('info', request.t('connection.kept', { previous: held.previous }))
    return reply.redirect(PREFERENCES_VIDEO, 303)
  })
}
