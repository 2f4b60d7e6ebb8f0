import type { FastifyInstance } from 'fastify'
import { NotFoundError } from '../../errors.js'
import { requireAdmin } from '../../plugins/guards.js'

/** Settings → Video meetings → Manage users: every user's own connection; an admin can remove one. */
export default async function manageUsersRoutes(app: FastifyInstance) {
  app.addHook('preHandler', requireAdmin)

  app.get('/settings/video-meetings/users', async (_request, reply) => {
    const organization = app.video.organization()
    const connections = app.connections.listAll().map((c) => ({ ...c, providerName: app.video.adapter(c.provider)?.name ?? c.provider, inUse: organization?.provider === c.provider }))
    return reply.render('pages/settings/manage-users', { tab: 'video-meetings', connections })
  })

  app.post<{ Params: { id: string } }>('/settings/video-meetings/users/:id/remove', async (request, reply) => {
    const id = /^\d{1,12}$/.test(request.params.id) ? Number(request.params.id) : NaN
    const connection = Number.isFinite(id) ? app.connections.get(id) : undefined
    if (!connection) throw new NotFoundError()
    const owner = app.repos.users.findById(connection.userId)
    await app.video.connectionRemoval.remove(connection.id, { id: request.user!.id, name: request.user!.name })
    request.flash('success', request.t('manageUsers.removed', { name: owner?.name ?? String(connection.userId) }))
    return reply.redirect('/settings/video-meetings/users', 303)
  })
}
