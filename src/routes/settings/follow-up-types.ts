import type { FastifyInstance, FastifyReply } from 'fastify'
import { FormReader } from '../../forms.js'
import { NotFoundError } from '../../errors.js'
import { requireAdmin } from '../../plugins/guards.js'

const PATH = '/settings/follow-up-types'

/** Settings → Follow-up types: the admin-managed list, with video on by default per type. */
export default async function followUpTypeRoutes(app: FastifyInstance) {
  app.addHook('preHandler', requireAdmin)

  const page = (reply: FastifyReply, extra: Record<string, unknown> = {}, status?: number) =>
    reply.render('pages/settings/follow-up-types', { tab: 'follow-up-types', types: app.followUps.types(), values: {}, errors: {}, ...extra }, status ? { status } : {})

  const isDuplicate = (error: unknown) => error instanceof Error && 'code' in error && error.code === 'SQLITE_CONSTRAINT_UNIQUE'

  app.get(PATH, async (_request, reply) => page(reply))

  app.post(PATH, async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const name = f.text('name', { required: true, max: 60 })
    const videoDefault = f.checkbox('videoDefault')
    if (!f.ok) return page(reply, { values: f.values, errors: f.errors }, 422)
    try {
      app.followUps.createType(name, videoDefault)
    } catch (error) {
      if (!isDuplicate(error)) throw error
      return page(reply, { values: f.values, errors: { name: request.t('types.duplicate') } }, 422)
    }
    request.flash('success', request.t('types.saved'))
    return reply.redirect(PATH, 303)
  })

  app.post<{ Params: { id: string } }>(`${PATH}/:id`, async (request, reply) => {
    const id = /^\d{1,12}$/.test(request.params.id) ? Number(request.params.id) : NaN
    if (!app.followUps.types().some((type) => type.id === id)) throw new NotFoundError()
    const f = new FormReader(request.body, request.t)
    if (f.choice('action', ['save', 'delete'] as const, 'save') === 'delete') {
      app.followUps.deleteType(id)
      request.flash('success', request.t('types.saved'))
      return reply.redirect(PATH, 303)
    }
    const name = f.text('name', { required: true, max: 60 })
    const videoDefault = f.checkbox('videoDefault')
    if (!f.ok) return page(reply, { editId: id, values: f.values, errors: f.errors }, 422)
    try {
      app.followUps.updateType(id, name, videoDefault)
    } catch (error) {
      if (!isDuplicate(error)) throw error
      return page(reply, { editId: id, values: f.values, errors: { name: request.t('types.duplicate') } }, 422)
    }
    request.flash('success', request.t('types.saved'))
    return reply.redirect(PATH, 303)
  })
}
