import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { failureMessage } from '../../connections/failure-message.js'
import { FormReader } from '../../forms.js'
import { NotFoundError } from '../../errors.js'
import { actorOf, currentUser } from '../../plugins/auth.js'
import type { ProviderAdapter } from '../../providers/contract.js'
import { CONFIGURE } from '../urls.js'

/**
 * Settings → Video meetings (prefix /settings/video-meetings, administrators): the organization's provider and
 * the Configure flow (which opens in a new tab).
 */
export default async function videoSettingsRoutes(app: FastifyInstance) {
  const { registrations, authorization, organizationProvider } = app.services.video
  const actor = (request: FastifyRequest) => actorOf(currentUser(request))

  const providerParam = (id: string): ProviderAdapter => {
    const p = organizationProvider.available().find((a) => a.id === id)
    if (!p) throw new NotFoundError()
    return p
  }

  const statusData = () => ({ tab: 'video-meetings', organization: organizationProvider.current() })

  // The status tab; htmx refreshes just its panel when the admin comes back from the Configure tab.
  app.get('/', async (_request, reply) =>
    reply.header('cache-control', 'no-store').render('pages/settings/video-meetings', statusData(), { partial: 'partials/video-status' }),
  )

  const configureData = (extra: Record<string, unknown> = {}) => {
    const organization = organizationProvider.current()
    return {
      organization,
      providers: organizationProvider.available().map((p) => ({ adapter: p, client: registrations.status(p.id) })),
      values: organization ? Object.fromEntries(Object.entries(organization.settings).map(([k, v]) => [k, v === true ? 'true' : v === false ? '' : String(v)])) : {},
      errors: {},
      ...extra,
    }
  }
  const configurePage = (reply: FastifyReply) => reply.render('pages/settings/video-configure', configureData())

  app.get('/configure', async (_request, reply) => configurePage(reply))

  // Choosing a provider: OAuth providers go to their sign-in page; Jitsi needs none.
  app.post<{ Params: { provider: string } }>('/configure/:provider', async (request, reply) => {
    const p = providerParam(request.params.provider)
    const current = organizationProvider.current()
    if (current) {
      request.flash('error', request.t('video.error.alreadyConfigured', { provider: current.adapter.name }))
      return reply.redirect(CONFIGURE, 303)
    }
    if (!p.oauth) {
      const result = organizationProvider.connectWithoutSignIn(p.id, actor(request))
      if (!result.ok) request.flash('error', failureMessage(request.t, request.language, p.name, result.failure))
      return reply.redirect(CONFIGURE, 303)
    }
    if (!registrations.status(p.id).source) {
      request.flash('error', request.t('video.error.notSetUp', { provider: p.name }))
      return reply.redirect(CONFIGURE, 303)
    }
    const url = await authorization.start(p.id, { userId: currentUser(request).id, sessionId: request.session.sessionId, purpose: 'organization' })
    return reply.header('cache-control', 'no-store').redirect(url, 303)
  })

  app.post('/configure/settings', async (request, reply) => {
    const organization = organizationProvider.current()
    if (!organization) return reply.redirect(CONFIGURE, 303)
    const form = new FormReader(request.body, request.t)
    const values: Record<string, string | undefined> = {}
    for (const field of organization.adapter.settings.fields) {
      const raw = (request.body as Record<string, unknown> | undefined)?.[field.name]
      values[field.name] = field.type === 'checkbox' ? (form.checkbox(field.name) ? 'true' : undefined) : typeof raw === 'string' ? raw : undefined
      if (raw !== undefined && typeof raw !== 'string') form.fail(field.name, request.t('error.repeated'))
    }
    const result = form.ok ? organizationProvider.saveSettings(values, request.language, actor(request)) : { ok: false as const, errors: form.errors }
    if (!result.ok) {
      const shown = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v ?? '']))
      return reply.invalid('pages/settings/video-configure', configureData({ values: shown, errors: result.errors }))
    }
    request.flash('success', request.t('video.configured.saved'))
    return reply.redirect(CONFIGURE, 303)
  })

  app.get('/disconnect', async (_request, reply) => {
    const organization = organizationProvider.current()
    if (!organization) return reply.redirect(CONFIGURE, 303)
    return reply.render('pages/settings/video-disconnect', { organization })
  })

  app.post('/disconnect', async (request, reply) => {
    const result = await organizationProvider.disconnect(actor(request))
    if (result) {
      const key = result.revoked === 'failed' ? 'video.disconnect.notRevoked' : result.revoked === 'no_endpoint' ? 'video.disconnect.noEndpoint' : 'video.disconnect.done'
      request.flash(result.revoked === 'failed' ? 'error' : 'success', request.t(key, { provider: result.provider }))
    }
    return reply.redirect(CONFIGURE, 303)
  })

  const clientData = (p: ProviderAdapter, extra: Record<string, unknown> = {}) => {
    const client = registrations.status(p.id)
    return { provider: p, client, redirectUri: registrations.redirectUri(p.id), values: { clientId: client.clientId, ...client.fields }, errors: {}, ...extra }
  }

  app.get<{ Params: { provider: string } }>('/clients/:provider', async (request, reply) => {
    const p = providerParam(request.params.provider)
    return reply.render('pages/settings/video-client', clientData(p))
  })

  // The admin's app registration; providers with a built-in one, or one from the environment, have no form.
  app.post<{ Params: { provider: string } }>('/clients/:provider', async (request, reply) => {
    const p = providerParam(request.params.provider)
    const client = registrations.status(p.id)
    if (!p.oauth || p.oauth.builtIn || client.source === 'environment') return reply.redirect(`/settings/video-meetings/clients/${p.id}`, 303)
    const f = new FormReader(request.body, request.t)
    const clientId = f.text('clientId', { required: true, max: 200 })
    const secret = f.password('clientSecret', { required: false, max: 500 })
    const fields: Record<string, string> = {}
    for (const field of p.oauth.registrationFields ?? []) {
      const value = f.text(field.name, { required: true, max: field.maxLength })
      if (value && !f.errors[field.name] && !field.valid(value)) f.fail(field.name, field.invalid[request.language])
      fields[field.name] = value
    }
    if (!secret && (!client.secretSet || client.unreadable) && !f.errors.clientSecret) f.fail('clientSecret', request.t('video.client.secretRequired'))
    if (!f.ok) return reply.invalid('pages/settings/video-client', clientData(p, { values: f.values, errors: f.errors }))
    registrations.save(p.id, { clientId, secret: secret || null, fields }, actor(request))
    request.flash('success', request.t('video.client.saved', { provider: p.name }))
    return reply.redirect(CONFIGURE, 303)
  })
}
