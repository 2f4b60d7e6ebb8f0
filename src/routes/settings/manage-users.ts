import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../../errors.js'
import { actorOf, currentUser } from '../../plugins/auth.js'

/** Settings → Video meetings → Manage users (prefix /settings/video-meetings/users, administrators): every user's own connection; an admin can remove one. */
export default async function manageUsersRoutes(app: FastifyInstance) {
  app.get('/', async (_request, reply) => {
    const organization = app.services.video.organization()
    const connections = app.services.connections.listAll().map((c) => ({ ...c, providerName: app.services.video.adapter(c.provider)?.name ?? c.provider, inUse: organization?.provider === c.provider }))
    return reply.render('pages/settings/manage-users', { tab: 'video-meetings', connections })
  })

  app.post<{ Params: { id: string } }>('/:id/remove', async (request, reply) => {
    const id = /^\d{1,12}$/.test(request.params.id) ? Number(request.params.id) : NaN
    const connection = Number.isFinite(id) ? app.services.connections.get(id) : undefined
    if (!connection) throw new NotFoundError()
    const owner = app.services.users.findById(connection.userId)
    await app.services.video.connectionRemoval.remove(connection.id, actorOf(currentUser(request)))
    request.flash('success', request.t('manageUsers.removed', { name: owner?.name ?? String(connection.userId) }))
    return reply.redirect('/settings/video-meetings/users', 303)
  })
}
