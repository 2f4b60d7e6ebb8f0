import type { FastifyInstance } from 'fastify'
import { requireAdmin } from '../../plugins/guards.js'

/** Settings → Video meetings: the organization's provider (the Configure flow fills this in). */
export default async function videoSettingsRoutes(app: FastifyInstance) {
  app.get('/settings/video-meetings', { preHandler: requireAdmin }, async (_request, reply) =>
    reply.render('pages/settings/video-meetings', { tab: 'video-meetings' }, { partial: 'partials/video-status' }),
  )
}
