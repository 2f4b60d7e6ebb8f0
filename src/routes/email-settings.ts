import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { readMailForm } from '../mail/form.js'
import { mailReasonText } from '../mail/reason.js'
import type { StoredMailSettings } from '../db/repositories/mail-settings.js'
import { actorOf, currentUser } from '../plugins/auth.js'

type Scope = 'user' | 'installation'

const PATHS: Record<Scope, string> = { user: '/preferences/email', installation: '/settings/email' }

/**
 * Outgoing mail servers: Preferences → Email (each user's own; prefix /preferences/email) and Settings → Email
 * (the installation's, used by users without their own; prefix /settings/email, administrators). One form for
 * both scopes. "Send test email" tries the form's values without losing them.
 */
export default function emailSettingsRoutes(scope: Scope) {
  return async function emailSettings(app: FastifyInstance): Promise<void> {
    const { settings, mailer } = app.services.mail
    const path = PATHS[scope]

    const stored = (request: FastifyRequest): StoredMailSettings | undefined =>
      scope === 'user' ? settings.getForUser(currentUser(request).id) : settings.getInstallation()

    const valuesOf = (s: StoredMailSettings | undefined, request: FastifyRequest): Record<string, string> => {
      if (s) return { host: s.host, port: String(s.port), security: s.security, username: s.username, fromName: s.fromName, fromAddress: s.fromAddress }
      const user = currentUser(request)
      return { port: '587', security: 'starttls', fromName: user.name, fromAddress: user.email }
    }

    const page = (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status?: number) => {
      const current = stored(request)
      return reply.render(
        scope === 'user' ? 'pages/preferences/email' : 'pages/settings/email',
        {
          tab: 'email',
          scope,
          action: path,
          current,
          installation: scope === 'user' ? settings.getInstallation() : undefined,
          effective: scope === 'user' ? (settings.effective(currentUser(request).id)?.source ?? null) : null,
          values: valuesOf(current, request),
          errors: {},
          ...extra,
        },
        status ? { status } : {},
      )
    }

    app.get('/', async (request, reply) => page(request, reply))

    app.post('/', async (request, reply) => {
      const user = currentUser(request)
      const form = readMailForm(request.body, request.t)
      const action = form.form.choice('action', ['save', 'test'] as const, 'save')
      if (!form.server) return page(request, reply, { values: form.values, errors: form.errors }, 422)
      const current = stored(request)

      if (action === 'test') {
        // The typed values, with the stored password when none was typed.
        const storedPassword = current ? settings.storedPassword(scope === 'user' ? user.id : null) : null
        const password = form.clearPassword ? null : (form.password ?? storedPassword)
        if (!form.password && !form.clearPassword && current?.passwordUnreadable) {
          return page(request, reply, { values: form.values, testResult: { ok: false, detail: request.t('email.passwordUnreadable'), to: user.email } }, 422)
        }
        const result = await mailer.sendTest({ ...form.server, password, source: scope }, user.email, request.t('email.testSubject'), request.t('email.testBody', { host: form.server.host }))
        request.log.info({ ok: result.ok, kind: result.kind }, 'test email')
        return page(
          request,
          reply,
          {
            values: form.values,
            // Accepted: the server's answer as it gave it. Refused: why, in the reader's words, with the server's exact answer inside.
            testResult: { ok: result.ok, detail: result.ok ? result.detail : mailReasonText(request.t, result.reason ?? result.detail, request.language), to: user.email },
          },
          result.ok ? 200 : 422,
        )
      }

      if (scope === 'user') settings.saveForUser(user.id, form.server, form.password, form.clearPassword)
      else settings.saveInstallation(form.server, form.password, form.clearPassword)
      app.services.audit.record(actorOf(user), scope === 'user' ? 'email.user' : 'email.installation', form.server.host)
      request.flash('success', request.t('email.saved'))
      return reply.redirect(path, 303)
    })

    app.post('/remove', async (request, reply) => {
      if (scope === 'user') settings.removeForUser(currentUser(request).id)
      else settings.removeInstallation()
      request.flash('success', request.t('email.removed'))
      return reply.redirect(path, 303)
    })
  }
}
