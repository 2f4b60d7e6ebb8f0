import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FollowUp, FollowUpInput, MailIntent } from '../db/repositories/follow-ups.js'
import { buildIcs, buildInvitation, type InvitationSnapshot } from '../mail/invitation.js'
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

  /** How this user's invitations go out: null when no email settings are in effect (the form says so). */
  const mailIntent = (request: FastifyRequest, send: boolean): MailIntent | null => {
    const user = request.user!
    const settings = app.mail.settings.effective(user.id)
    if (!settings) return null
    return { send, organizer: { name: user.name, email: settings.source === 'user' ? settings.fromAddress : user.email }, language: user.language }
  }

  const snapshotOf = (request: FastifyRequest, input: Pick<FollowUpInput, 'title' | 'startsAt' | 'endsAt' | 'timeZone' | 'location' | 'description' | 'video'>, attendees: string[], uid: string, sequence: number): InvitationSnapshot => {
    const intent = mailIntent(request, true)
    return {
      uid,
      sequence,
      ...input,
      organizer: intent?.organizer ?? { name: request.user!.name, email: request.user!.email },
      attendees,
      language: request.user!.language,
    }
  }

  const meetingDetails = (f: FollowUp | undefined) => {
    const m = f?.meeting
    return m && m.state === 'ready' && m.joinUrl ? { joinUrl: m.joinUrl, passcode: m.passcode, dialIn: m.dialIn, provider: app.video.adapter(m.provider)?.name ?? m.provider } : null
  }

  /**
   * After a save with video on: a user who must sign in at the provider first goes there (the follow-up is
   * already saved); otherwise the meeting is tried at once, within a short budget.
   */
  const afterSave = async (request: FastifyRequest, reply: FastifyReply, id: number) => {
    const f = app.followUps.getForUser(id, request.user!.id)!
    // Tried first: quick when the user must sign in (it only records why the meeting waits).
    if (f.meeting) await app.meetings.syncNow(id, INLINE_SYNC_BUDGET_MS)
    const organization = app.video.organization()
    if (f.video && organization?.adapter.oauth) {
      const connection = app.connections.findForUser(request.user!.id, organization.provider)
      if (!connection || connection.status === 'needs_reconnect') return sendToProviderSignIn(app, request, reply, `/follow-ups/${id}`)
    }
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
    reply.render(
      'pages/follow-ups/form',
      { types: app.followUps.types(), timeZones: timeZones(), errors: {}, mailReady: app.mail.settings.effective(reply.request.user!.id) !== null, ...videoContext(), ...data },
      status ? { status } : {},
    )

  /** The email the attendees would get, before anything is saved (Save and send posts the same form). */
  const previewPage = (request: FastifyRequest, reply: FastifyReply, form: ReturnType<typeof readFollowUpForm>, followUp?: FollowUp) => {
    const input = form.input!
    const invitation = buildInvitation(snapshotOf(request, input, input.attendees, followUp?.icalUid ?? 'preview', followUp?.icalUid ? 1 : 0), 'request', input.video ? meetingDetails(followUp) : null)
    const hidden = Object.entries(form.values).filter(([name]) => !['action', 'sendInvitations', 'invite', 'inviteChosen'].includes(name))
    const uninvited = new Set(followUp?.attendeeDetails.filter((a) => !a.invite).map((a) => a.email) ?? [])
    return reply.render('pages/follow-ups/preview', {
      followUp,
      invitation,
      hidden,
      recipients: input.attendees.map((email) => ({ email, checked: form.invite ? form.invite.includes(email) : !uninvited.has(email) })),
      linkPending: input.video && !meetingDetails(followUp),
      action: followUp ? `/follow-ups/${followUp.id}` : '/follow-ups',
    })
  }

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
        sendInvitations: app.mail.settings.effective(request.user!.id) ? 'true' : '',
      },
    })
  })

  app.post('/follow-ups', async (request, reply) => {
    const { videoProvider } = videoContext()
    const form = readFollowUpForm(request.body, request.t, app.followUps.types(), videoProvider !== null)
    if (!form.input || form.action === 'edit') return formPage(reply, { values: form.values, errors: form.errors }, form.input ? 200 : 422)
    if (form.action === 'preview') return previewPage(request, reply, form)
    const intent = mailIntent(request, form.sendInvitations)
    const id = app.followUps.create(request.user!.id, form.input, app.video.organization()?.provider ?? null, intent ?? undefined)
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
      {
        followUp,
        events: app.followUps.events(followUp.id),
        deliveries: new Map(app.mail.outbox.deliveries(followUp.id).map((d) => [d.recipient.toLowerCase(), d])),
        providerName: meetingAdapter?.name ?? organization?.adapter.name ?? '',
        connection,
        title: followUp.title,
      },
      { partial: 'partials/meeting' },
    )
  })

  app.get<{ Params: { id: string } }>('/follow-ups/:id/edit', async (request, reply) => {
    const followUp = own(request)
    const everInvited = followUp.attendeeDetails.some((a) => a.invited)
    return formPage(reply, { followUp, values: { ...formValues(followUp), sendInvitations: everInvited || followUp.attendees.length === 0 ? 'true' : '' } })
  })

  // Always available: the user can send it from their own mail program.
  app.get<{ Params: { id: string } }>('/follow-ups/:id/invite.ics', async (request, reply) => {
    const followUp = own(request)
    const ics = buildIcs(
      snapshotOf(request, { ...followUp, startsAt: followUp.startsAt, endsAt: followUp.endsAt }, followUp.attendees, followUp.icalUid ?? `follow-up-${followUp.id}@video-meetings`, followUp.icalSequence),
      'request',
      // Video turned off: no join link, even while the provider has not confirmed the cancellation yet.
      followUp.video ? meetingDetails(followUp) : null,
    )
    const name = followUp.title.replace(/[^\p{L}\p{N} _-]+/gu, '').trim().slice(0, 60) || 'meeting'
    return reply
      .type('text/calendar; charset=utf-8; method=REQUEST')
      // Plain ASCII in filename= (header bytes must be Latin-1), the real name in filename*= (RFC 6266).
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9 _-]/g, '') || 'meeting'}.ics"; filename*=UTF-8''${encodeURIComponent(name)}.ics`)
      .send(ics)
  })

  app.post<{ Params: { id: string; outboxId: string } }>('/follow-ups/:id/deliveries/:outboxId/retry', async (request, reply) => {
    const followUp = own(request)
    const outboxId = /^\d{1,12}$/.test(request.params.outboxId) ? Number(request.params.outboxId) : NaN
    const delivery = app.mail.outbox.deliveries(followUp.id).find((d) => d.id === outboxId)
    if (!delivery || !app.mail.outbox.retryFailed(delivery.id, request.user!.id)) throw new NotFoundError()
    request.flash('success', request.t('invite.retried'))
    return reply.redirect(`/follow-ups/${followUp.id}`, 303)
  })

  app.post<{ Params: { id: string } }>('/follow-ups/:id', async (request, reply) => {
    const followUp = own(request)
    const { videoProvider } = videoContext()
    const form = readFollowUpForm(request.body, request.t, app.followUps.types(), videoProvider !== null)
    if (!form.input || form.action === 'edit') return formPage(reply, { followUp, values: form.values, errors: form.errors }, form.input ? 200 : 422)
    if (form.action === 'preview') return previewPage(request, reply, form, followUp)
    const intent = mailIntent(request, form.sendInvitations)
    app.followUps.update(followUp.id, request.user!.id, form.input, app.video.organization()?.provider ?? null, intent ?? undefined)
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
    // Everyone who got the invitation gets the cancellation.
    app.followUps.delete(followUp.id, request.user!.id, mailIntent(request, false) ?? undefined)
    if (followUp.meeting?.externalId) await app.meetings.syncNow(followUp.id, INLINE_SYNC_BUDGET_MS)
    request.flash('success', request.t('followUps.deleted'))
    return reply.redirect('/follow-ups', 303)
  })
}
