import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { FollowUp } from '../db/repositories/follow-ups.js'
import type { User } from '../db/repositories/users.js'
import { buildIcs, buildInvitation, meetingDetailsOf } from '../mail/invitation.js'
import { NotFoundError } from '../errors.js'
import { timeZones } from '../forms.js'
import { formValues, readFollowUpForm, type FollowUpForm } from '../follow-ups/form.js'
import { utcToZonedInput } from '../follow-ups/time.js'
import { currentUser } from '../plugins/auth.js'

export const PAGE_SIZE = 50

/**
 * Follow-ups (prefix /follow-ups): each user's own diary. Parse the form, call the follow-up service, render;
 * every route is scoped to the signed-in user's follow-ups.
 */
export default async function followUpRoutes(app: FastifyInstance) {
  const { followUps, followUpTypes, followUpService, meetingRecords, video, connections, mail } = app.services

  const own = (request: FastifyRequest<{ Params: { id: string } }>): FollowUp => {
    const id = /^\d{1,12}$/.test(request.params.id) ? Number(request.params.id) : NaN
    const f = Number.isFinite(id) ? followUps.getForUser(id, currentUser(request).id) : undefined
    if (!f) throw new NotFoundError()
    return f
  }

  /** The provider's name for a meeting's details, as invitations show them; null while there is no link. */
  const meetingDetails = (f: FollowUp | undefined) => meetingDetailsOf(f?.meeting, (id) => video.adapter(id)?.name ?? id)

  const formPage = (reply: FastifyReply, user: User, data: { followUp?: FollowUp; values: Record<string, string>; errors?: Record<string, string> }) => {
    const organization = video.organization()
    const page = { types: followUpTypes.list(), timeZones: timeZones(), errors: {}, mailReady: mail.settings.effective(user.id) !== null, videoProvider: organization?.adapter.name ?? null, ...data }
    return data.errors && Object.keys(data.errors).length ? reply.invalid('pages/follow-ups/form', { ...page, errors: data.errors }) : reply.render('pages/follow-ups/form', page)
  }

  /** The email the attendees would get, before anything is saved (Save and send posts the same form). */
  const previewPage = (reply: FastifyReply, user: User, form: FollowUpForm, followUp?: FollowUp) => {
    const input = form.input!
    const identity = followUp ? { uid: followUp.icalUid, sequence: followUp.icalSequence, organizer: followUp.icalOrganizer } : { uid: 'preview', sequence: 0 }
    const snapshot = followUpService.invitationSnapshot(user, input, input.attendees, identity)
    const invitation = buildInvitation({ ...snapshot, update: followUp?.attendeeDetails.some((a) => a.invited) ?? false }, 'request', input.video ? meetingDetails(followUp) : null)
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

  /** Reads the posted form: a form to show again (errors, or "edit" from the preview), the preview, or a save. */
  const readForm = (request: FastifyRequest) => readFollowUpForm(request.body, request.t, followUpTypes.list(), video.organization() !== null)

  const afterSave = (reply: FastifyReply, outcome: { id: number; next: 'show' | 'provider_sign_in' }) =>
    outcome.next === 'provider_sign_in' ? reply.sendToProviderSignIn(`/follow-ups/${outcome.id}`) : reply.redirect(`/follow-ups/${outcome.id}`, 303)

  app.get<{ Querystring: { view?: string; page?: string } }>('/', async (request, reply) => {
    const user = currentUser(request)
    const view = request.query.view === 'past' ? 'past' : 'upcoming'
    const requested = /^\d{1,6}$/.test(request.query.page ?? '') ? Number(request.query.page) : 1
    const first = followUps.list(user.id, view, PAGE_SIZE, (Math.max(requested, 1) - 1) * PAGE_SIZE)
    const pages = Math.max(1, Math.ceil(first.total / PAGE_SIZE))
    const page = Math.min(Math.max(requested, 1), pages)
    const list = page === requested ? first : followUps.list(user.id, view, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return reply.render('pages/follow-ups/list', { view, items: list.items, page, pages, title: request.t('followUps.title') })
  })

  app.get('/new', async (request, reply) => {
    const user = currentUser(request)
    const types = followUpTypes.list()
    // Next full hour, one hour long, in the user's zone; video as the first type says.
    const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000)
    const first = types[0]
    return formPage(reply, user, {
      values: {
        typeId: first ? String(first.id) : '',
        start: utcToZonedInput(start, user.timeZone),
        end: utcToZonedInput(new Date(start.getTime() + 3_600_000), user.timeZone),
        timeZone: user.timeZone,
        video: first?.videoDefault && video.organization() ? 'true' : '',
        sendInvitations: mail.settings.effective(user.id) ? 'true' : '',
      },
    })
  })

  app.post('/', async (request, reply) => {
    const user = currentUser(request)
    const form = readForm(request)
    if (!form.input || form.action === 'edit') return formPage(reply, user, { values: form.values, errors: form.errors })
    if (form.action === 'preview') return previewPage(reply, user, form)
    const outcome = await followUpService.create(user, form.input, { sendInvitations: form.sendInvitations })
    request.flash('success', request.t('followUps.created'))
    return afterSave(reply, outcome)
  })

  app.get<{ Params: { id: string } }>('/:id', async (request, reply) => {
    const followUp = own(request)
    const organization = video.organization()
    const meetingAdapter = followUp.meeting ? video.adapter(followUp.meeting.provider) : undefined
    const connection = organization ? connections.findForUser(currentUser(request).id, organization.provider) : undefined
    return reply.render(
      'pages/follow-ups/show',
      {
        followUp,
        events: meetingRecords.events(followUp.id),
        deliveries: new Map(mail.outbox.deliveries(followUp.id).map((d) => [d.recipient.toLowerCase(), d])),
        providerName: meetingAdapter?.name ?? organization?.adapter.name ?? '',
        connection,
        // The sender address in effect now, to say so when the invitations keep an earlier one.
        organizerNow: followUpService.mailIntent(currentUser(request), true)?.organizer.email ?? null,
        title: followUp.title,
      },
      { partial: 'partials/meeting' },
    )
  })

  app.get<{ Params: { id: string } }>('/:id/edit', async (request, reply) => {
    const followUp = own(request)
    const everInvited = followUp.attendeeDetails.some((a) => a.invited)
    return formPage(reply, currentUser(request), { followUp, values: { ...formValues(followUp), sendInvitations: everInvited || followUp.attendees.length === 0 ? 'true' : '' } })
  })

  /** A calendar file of this follow-up: the same UID and SEQUENCE as its mails, so calendars never hold two. */
  const icsFile = (reply: FastifyReply, user: User, followUp: FollowUp, kind: 'request' | 'cancel' | 'publish', suffix = '') => {
    const identity = { uid: followUp.icalUid, sequence: followUp.icalSequence + (kind === 'cancel' ? 1 : 0), organizer: followUp.icalOrganizer }
    const snapshot = followUpService.invitationSnapshot(user, followUp, followUp.attendees, identity)
    // Video turned off: no join link, even while the provider has not confirmed the cancellation yet.
    const ics = buildIcs(snapshot, kind, kind !== 'cancel' && followUp.video ? meetingDetails(followUp) : null)
    const name = `${followUp.title.replace(/[^\p{L}\p{N} _-]+/gu, '').trim().slice(0, 60) || 'meeting'}${suffix}`
    return reply
      .type(`text/calendar; charset=utf-8; method=${kind.toUpperCase()}`)
      .header('cache-control', 'no-store')
      // Plain ASCII in filename= (header bytes must be Latin-1), the real name in filename*= (RFC 6266).
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9 _-]/g, '') || 'meeting'}.ics"; filename*=UTF-8''${encodeURIComponent(name)}.ics`)
      .send(ics)
  }

  // Always available: the user can send it from their own mail program.
  app.get<{ Params: { id: string } }>('/:id/invite.ics', async (request, reply) => icsFile(reply, currentUser(request), own(request), 'request'))

  // The organizer's own copy: calendars import it as the organizer's event, not as an invitation from themselves.
  app.get<{ Params: { id: string } }>('/:id/event.ics', async (request, reply) => icsFile(reply, currentUser(request), own(request), 'publish'))

  // Offered before deleting a follow-up: it removes the event from calendars that imported the downloaded file.
  app.get<{ Params: { id: string } }>('/:id/cancel.ics', async (request, reply) => icsFile(reply, currentUser(request), own(request), 'cancel', ' (cancelled)'))

  app.post<{ Params: { id: string; outboxId: string } }>('/:id/deliveries/:outboxId/retry', async (request, reply) => {
    const followUp = own(request)
    const outboxId = /^\d{1,12}$/.test(request.params.outboxId) ? Number(request.params.outboxId) : NaN
    const delivery = mail.outbox.deliveries(followUp.id).find((d) => d.id === outboxId)
    if (!delivery || !mail.outbox.retryFailed(delivery.id, currentUser(request).id)) throw new NotFoundError()
    request.flash('success', request.t('invite.retried'))
    return reply.redirect(`/follow-ups/${followUp.id}`, 303)
  })

  app.post<{ Params: { id: string } }>('/:id', async (request, reply) => {
    const user = currentUser(request)
    const followUp = own(request)
    const form = readForm(request)
    if (!form.input || form.action === 'edit') return formPage(reply, user, { followUp, values: form.values, errors: form.errors })
    if (form.action === 'preview') return previewPage(reply, user, form, followUp)
    const outcome = await followUpService.update(user, followUp.id, form.input, { sendInvitations: form.sendInvitations })
    if (!outcome) throw new NotFoundError()
    request.flash('success', request.t('followUps.saved'))
    return afterSave(reply, outcome)
  })

  app.post<{ Params: { id: string } }>('/:id/retry', async (request, reply) => {
    const followUp = own(request)
    await followUpService.retryMeeting(currentUser(request), followUp.id)
    return reply.redirect(`/follow-ups/${followUp.id}`, 303)
  })

  app.get<{ Params: { id: string } }>('/:id/delete', async (request, reply) => {
    const followUp = own(request)
    const provider = followUp.meeting?.externalId ? video.adapter(followUp.meeting.provider)?.name : undefined
    return reply.render('pages/follow-ups/delete', { followUp, provider })
  })

  app.post<{ Params: { id: string } }>('/:id/delete', async (request, reply) => {
    const followUp = own(request)
    await followUpService.delete(currentUser(request), followUp.id)
    request.flash('success', request.t('followUps.deleted'))
    return reply.redirect('/follow-ups', 303)
  })
}
