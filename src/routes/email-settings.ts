import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readMailForm } from '../mail/form.js'
import { mailReasonText } from '../mail/reason.js'
import type { StoredMailSettings } from '../mail/settings.js'
import { requireAdmin, requireUser } from '../plugins/guards.js'

type Scope = 'user' | 'installation'

/**
 * Outgoing mail servers: Preferences → Email (each user's own) and Settings → Email (the installation's,
 * used by users without their own). "Send test email" tries the form's values without losing them.
 */
export default async function emailSettingsRoutes(app: FastifyInstance) {
  const { settings, mailer } = app.mail
  const paths: Record<Scope, string> = { user: '/preferences/email', installation: '/settings/email' }
  const guard = { user: requireUser, installation: requireAdmin }

  const stored = (scope: Scope, request: FastifyRequest): StoredMailSettings | undefined =>
    scope === 'user' ? settings.getForUser(request.user!.id) : settings.getInstallation()

  const valuesOf = (s: StoredMailSettings | undefined, request: FastifyRequest): Record<string, string> =>
    s
      ? { host: s.host, port: String(s.port), security: s.security, username: s.username, fromName: s.fromName, fromAddress: s.fromAddress }
      : { port: '587', security: 'starttls', fromName: request.user!.name, fromAddress: request.user!.email }

  const page = (scope: Scope, request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status?: number) => {
    const current = stored(scope, request)
    const installation = scope === 'user' ? settings.getInstallation() : undefined
    return reply.render(
      scope === 'user' ? 'pages/preferences/email' : 'pages/settings/email',
      {
        tab: 'email',
        scope,
        action: paths[scope],
        current,
        installation,
        effective: scope === 'user' ? settings.effective(request.user!.id)?.source ?? null : null,
        values: valuesOf(current, request),
        errors: {},
        ...extra,
      },
      status ? { status } : {},
    )
  }

  for (const scope of ['user', 'installation'] as const) {
    const path = paths[scope]
    app.get(path, { preHandler: guard[scope] }, async (request, reply) => page(scope, request, reply))

    app.post(path, { preHandler: guard[scope] }, async (request, reply) => {
      const form = readMailForm(request.body, request.t)
      const action = form.form.choice('action', ['save', 'test'] as const, 'save')
      if (!form.server) return page(scope, request, reply, { values: form.values, errors: form.errors }, 422)
      const current = stored(scope, request)

      if (action === 'test') {
        // The typed values, with the stored password when none was typed.
        const storedPassword = current ? settings.storedPassword(scope === 'user' ? request.user!.id : null) : null
        const password = form.clearPassword ? null : form.password ?? storedPassword
        if (!form.password && !form.clearPassword && current?.passwordUnreadable) {
          return page(scope, request, reply, { values: form.values, testResult: { ok: false, detail: request.t('email.passwordUnreadable'), to: request.user!.email } }, 422)
        }
        const to = request.user!.email
        const result = await mailer.sendTest(
          { ...form.server, password, source: scope },
          to,
          request.t('email.testSubject'),
          request.t('email.testBody', { host: form.server.host }),
        )
        request.log.info({ ok: result.ok, kind: result.kind }, 'test email')
        return page(scope, request, reply, {
          values: form.values,
          // Accepted: the server's answer as it gave it. Refused: why, in the reader's words, with the server's exact answer inside.
          testResult: { ok: result.ok, detail: result.ok ? result.detail : mailReasonText(request.t, result.reason ?? result.detail, request.language), to },
        }, result.ok ? 200 : 422)
      }

      if (scope === 'user') settings.saveForUser(request.user!.id, form.server, form.password, form.clearPassword)
      else settings.saveInstallation(form.server, form.password, form.clearPassword)
      app.repos.audit.record({ id: request.user!.id, name: request.user!.name }, scope === 'user' ? 'email.user' : 'email.installation', form.server.host)
      request.flash('success', request.t('email.saved'))
      return reply.redirect(path, 303)
    })

    app.post(`${path}/remove`, { preHandler: guard[scope] }, async (request, reply) => {
      if (scope === 'user') settings.removeForUser(request.user!.id)
      else settings.removeInstallation()
      request.flash('success', request.t('email.removed'))
      return reply.redirect(path, 303)
    })
  }
}
