import type { FastifyInstance } from 'fastify'
import { FormReader } from '../forms.js'
import { NotFoundError } from '../errors.js'
import { actorOf, currentUser, safeNext } from '../plugins/auth.js'
import { PREFERENCES_VIDEO } from './urls.js'

/** Preferences → Video meetings (prefix /preferences/video-meetings, signed in): the user's own connection to the organization's provider. */
export default async function preferencesVideoRoutes(app: FastifyInstance) {

  app.get('/', async (request, reply) => {
    const organization = app.services.video.organization()
    const connection = organization ? app.services.connections.checkedForUser(currentUser(request).id, organization.provider) : undefined
    return reply.render('pages/preferences/video-meetings', { tab: 'video-meetings', organization, connection })
  })

  app.post('/connect', async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const returnTo = safeNext(f.text('returnTo', { max: 200 }), PREFERENCES_VIDEO)
    if (!app.services.video.organization()?.adapter.oauth) return reply.redirect(PREFERENCES_VIDEO, 303)
    return reply.sendToProviderSignIn(returnTo)
  })

  app.post('/disconnect', async (request, reply) => {
    const organization = app.services.video.organization()
    const connection = organization && app.services.connections.findForUser(currentUser(request).id, organization.provider)
    if (connection) {
      const result = await app.services.video.connectionRemoval.remove(connection.id, actorOf(currentUser(request)))
      if (result) request.flash('success', request.t('connection.disconnected', { provider: result.provider }))
    }
    return reply.redirect(PREFERENCES_VIDEO, 303)
  })

  // Signed in as another account than the connection's: confirm before replacing.
  app.get('/replace', async (request, reply) => {
    const held = request.session.heldSignIn
    if (!held) throw new NotFoundError()
    return reply.render('pages/preferences/video-replace', { tab: 'video-meetings', held })
  })

  app.post('/replace', async (request, reply) => {
    const held = request.session.heldSignIn
    if (!held) return reply.redirect(PREFERENCES_VIDEO, 303)
    delete request.session.heldSignIn
    const f = new FormReader(request.body, request.t)
    const decision = f.choice('decision', ['replace', 'keep'] as const, 'keep')
    const who = { sessionId: request.session.sessionId, actor: actorOf(currentUser(request)) }
    if (decision === 'replace') {
      const done = await app.services.video.authorization.confirmHeldSignIn(held.state, who)
      if (done) {
        request.flash('success', request.t('connection.replaced', { provider: held.provider, account: held.account }))
        return reply.redirect(safeNext(done.returnTo, PREFERENCES_VIDEO), 303)
      }
      return reply.redirect(PREFERENCES_VIDEO, 303)
    }
    await app.services.video.authorization.discardHeldSignIn(held.state, who)
    request.flash('info', request.t('connection.kept', { previous: held.previous }))
    return reply.redirect(PREFERENCES_VIDEO, 303)
  })
}
