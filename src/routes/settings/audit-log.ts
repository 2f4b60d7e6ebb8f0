import type { FastifyInstance } from 'fastify'

const PAGE_SIZE = 50

/** Settings → Audit log (prefix /settings/audit-log, administrators): who connected, saved, disconnected or changed what, newest first. */
export default async function auditLogRoutes(app: FastifyInstance) {
  app.get<{ Querystring: { page?: string } }>('/', async (request, reply) => {
    const requested = /^\d{1,6}$/.test(request.query.page ?? '') ? Number(request.query.page) : 1
    const { total } = app.services.audit.page(1, 0)
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
    const page = Math.min(Math.max(requested, 1), pages)
    const { entries } = app.services.audit.page(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return reply.render('pages/settings/audit-log', { tab: 'audit-log', entries, page, pages })
  })
}
