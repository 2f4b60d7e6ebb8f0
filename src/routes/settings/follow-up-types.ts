import type { FastifyInstance, FastifyReply } from 'fastify'
import { FormReader } from '../../forms.js'
import { NotFoundError } from '../../errors.js'

const PATH = '/settings/follow-up-types'

/** Settings → Follow-up types (prefix /settings/follow-up-types, administrators): the list, with video on by default per type. */
export default async function followUpTypeRoutes(app: FastifyInstance) {
  const { followUpTypes } = app.services
  const data = (extra: Record<string, unknown> = {}) => ({ tab: 'follow-up-types', types: followUpTypes.list(), values: {}, errors: {}, ...extra })
  const page = (reply: FastifyReply) => reply.render('pages/settings/follow-up-types', data())
  const invalid = (reply: FastifyReply, form: { editId?: number; values: Record<string, string>; errors: Record<string, string> }) => reply.invalid('pages/settings/follow-up-types', data(form))

  const isDuplicate = (error: unknown) => error instanceof Error && 'code' in error && error.code === 'SQLITE_CONSTRAINT_UNIQUE'

  app.get('/', async (_request, reply) => page(reply))

  app.post('/', async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const name = f.text('name', { required: true, max: 60 })
    const videoDefault = f.checkbox('videoDefault')
    if (!f.ok) return invalid(reply, { values: f.values, errors: f.errors })
    try {
      followUpTypes.create(name, videoDefault)
    } catch (error) {
      if (!isDuplicate(error)) throw error
      return invalid(reply, { values: f.values, errors: { name: request.t('types.duplicate') } })
    }
    request.flash('success', request.t('types.saved'))
    return reply.redirect(PATH, 303)
  })

  app.post<{ Params: { id: string } }>('/:id', async (request, reply) => {
    const id = /^\d{1,12}$/.test(request.params.id) ? Number(request.params.id) : NaN
    if (!followUpTypes.list().some((type) => type.id === id)) throw new NotFoundError()
    const f = new FormReader(request.body, request.t)
    if (f.choice('action', ['save', 'delete'] as const, 'save') === 'delete') {
      followUpTypes.delete(id)
      request.flash('success', request.t('types.saved'))
      return reply.redirect(PATH, 303)
    }
    const name = f.text('name', { required: true, max: 60 })
    const videoDefault = f.checkbox('videoDefault')
    if (!f.ok) return invalid(reply, { editId: id, values: f.values, errors: f.errors })
    try {
      followUpTypes.update(id, name, videoDefault)
    } catch (error) {
      if (!isDuplicate(error)) throw error
      return invalid(reply, { editId: id, values: f.values, errors: { name: request.t('types.duplicate') } })
    }
    request.flash('success', request.t('types.saved'))
    return reply.redirect(PATH, 303)
  })
}
