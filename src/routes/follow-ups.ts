import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FollowUp } from '../db/repositories/follow-ups.js'
import { NotFoundError } from '../errors.js'
import { timeZones } from '../forms.js'
import { formValues, readFollowUpForm } from '../follow-ups/form.js'
import { utcToZonedInput } from '../follow-ups/time.js'
import { requireUser } from '../plugins/guards.js'
import { sendToProviderSignIn } from './connection-start.js'
import { INLINE_SYNC_BUDGET_MS } from './oauth-callback.js'

export const PAGE_SIZE = 50

/** Follow-ups: each user's own diary. Every route is scoped to the signed-in user's follow-ups. */
export default async function followUpRoutes(app: FastifyInstance) {
  app.addHook('preHandler', requireUser)

  const own = (request: FastifyRequest<{ Params: { id: string } }>): FollowUp => {
    const id = /^\d{1,12}$/.test(request.params.id) ? Number(request.params.id) : NaN
    const f = Number.isFinite(id) ? app.followUps.getForUser(id, request.user!.id) : undefined
    if (!f) throw new NotFoundError()
    return f
  }

  /** What the form needs to know about video: only shown when the organization has a provider. */
  const videoContext = () => {
    const organization = app.video.organization()
    return { videoProvider: organization ? organization.adapter.name : null }
  }

  /**
   * After a save with video on: a user who must sign in at the provider first goes there (the follow-up is
   * already saved); otherwise the meeting is tried at once, within a short budget.
   */
  const afterSave = async (request: FastifyRequest, reply: FastifyReply, id: number) => {
    const f = app.followUps.getForUser(id, request.user!.id)!
    const organization = app.video.organization()
    if (f.video && organization?.adapter.oauth) {
      const connection = app.connections.findForUser(request.user!.id, organization.provider)
      if (!connection || connection.status === 'needs_reconnect') return sendToProviderSignIn(app, request, reply, `/follow-ups/${id}`)
    }
    if (f.meeting) await app.meetings.syncNow(id, INLINE_SYNC_BUDGET_MS)
    return reply.redirect(`/follow-ups/${id}`, 303)
  }

  app.get<{ Querystring: { view?: string; page?: string } }>('/follow-ups', async (request, reply) => {
    const view = request.query.view === 'past' ? 'past' : 'upcoming'
    const requested = /^\d{1,6}$/.test(request.query.page ?? '') ? Number(request.query.page) : 1
    const first = app.followUps.list(request.user!.id, view, PAGE_SIZE, (Math.max(requested, 1) - 1) * PAGE_SIZE)
    const pages = Math.max(1, Math.ceil(first.total / PAGE_SIZE))
    const page = Math.min(Math.max(requested, 1), pages)
    const list = page === requested ? first : app.followUps.list(request.user!.id, view, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return reply.render('pages/follow-ups/list', { view, items: list.items, page, pages, title: request.t('followUps.title') })
  })

  const formPage = (reply: FastifyReply, data: { followUp?: FollowUp; values: Record<string, string>; errors?: Record<string, string> }, status?: number) =>
    reply.render('pages/follow-ups/form', { types: app.followUps.types(), timeZones: timeZones(), errors: {}, ...videoContext(), ...data }, status ? { status } : {})

  app.get('/follow-ups/new', async (request, reply) => {
    const types = app.followUps.types()
    const zone = request.user!.timeZone
    // Next full hour, one hour long, in the user's zone; video as the first type says.
    const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000)
    const first = types[0]
    return formPage(reply, {
      values: {
        typeId: first ? String(first.id) : '',
        start: utcToZonedInput(start, zone),
        end: utcToZonedInput(new Date(start.getTime() + 3_600_000), zone),
        timeZone: zone,
        video: first?.videoDefault && app.video.organization() ? 'true' : '',
      },
    })
  })

  app.post('/follow-ups', async (request, reply) => {
    const { videoProvider } = videoContext()
    const form = readFollowUpForm(request.body, request.t, app.followUps.types(), videoProvider !== null)
    if (!form.input) return formPage(reply, { values: form.values, errors: form.errors }, 422)
    const id = app.followUps.create(request.user!.id, form.input, app.video.organization()?.provider ?? null)
    request.flash('success', request.t('followUps.created'))
    return afterSave(request, reply, id)
  })

  app.get<{ Params: { id: string } }>('/follow-ups/:id', async (request, reply) => {
    const followUp = own(request)
    const organization = app.video.organization()
    const meetingAdapter = followUp.meeting ? app.video.adapter(followUp.meeting.provider) : undefined
    const connection = organization ? app.connections.findForUser(request.user!.id, organization.provider) : undefined
    return reply.render(
      'pages/follow-ups/show',
      { followUp, events: app.followUps.events(followUp.id), providerName: meetingAdapter?.name ?? organization?.adapter.name ?? '', connection, title: followUp.title },
      { partial: 'partials/meeting' },
    )
  })

  app.get<{ Params: { id: string } }>('/follow-ups/:id/edit', async (request, reply) => {
    const followUp = own(request)
    return formPage(reply, { followUp, values: formValues(followUp) })
  })

  app.post<{ Params: { id: string } }>('/follow-ups/:id', async (request, reply) => {
    const followUp = own(request)
    const { videoProvider } = videoContext()
    const form = readFollowUpForm(request.body, request.t, app.followUps.types(), videoProvider !== null)
    if (!form.input) return formPage(reply, { followUp, values: form.values, errors: form.errors }, 422)
    app.followUps.update(followUp.id, request.user!.id, form.input, app.video.organization()?.provider ?? null)
    request.flash('success', request.t('followUps.saved'))
    return afterSave(request, reply, followUp.id)
  })

  app.post<{ Params: { id: string } }>('/follow-ups/:id/retry', async (request, reply) => {
    const followUp = own(request)
    if (followUp.meeting) {
      app.followUps.enqueueSync(followUp.id)
      await app.meetings.syncNow(followUp.id, INLINE_SYNC_BUDGET_MS)
    }
    return reply.redirect(`/follow-ups/${followUp.id}`, 303)
  })

  app.get<{ Params: { id: string } }>('/follow-ups/:id/delete', async (request, reply) => {
    const followUp = own(request)
    const provider = followUp.meeting?.externalId ? app.video.adapter(followUp.meeting.provider)?.name : undefined
    return reply.render('pages/follow-ups/delete', { followUp, provider })
  })

  app.post<{ Params: { id: string } }>('/follow-ups/:id/delete', async (request, reply) => {
    const followUp = own(request)
    app.followUps.delete(followUp.id, request.user!.id)
    if (followUp.meeting?.externalId) await app.meetings.syncNow(followUp.id, INLINE_SYNC_BUDGET_MS)
    request.flash('success', request.t('followUps.deleted'))
    return reply.redirect('/follow-ups', 303)
  })
}
