import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FormReader, isTimeZone } from '../forms.js'
import { LANGUAGES, translator } from '../i18n/index.js'
import { hashPassword, MIN_PASSWORD_LENGTH } from '../security/passwords.js'
import { DuplicateEmailError } from '../db/repositories/users.js'
import { NotFoundError } from '../errors.js'
import { signIn } from '../plugins/auth.js'

/** onRequest hook for the whole app: until setup is done, every page leads to the setup page. */
export function setupGate(isSetUp: () => boolean) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (isSetUp()) return
    const path = request.url.split('?', 1)[0]!
    if (path === '/setup' || path.startsWith('/assets/') || path === '/healthz' || path === '/readyz') return
    await reply.redirect('/setup', 303)
  }
}

/** The first visit creates the first administrator; afterwards the page is gone for good. */
export default async function setupRoutes(app: FastifyInstance) {
  const form = (values: Record<string, string> = {}, errors: Record<string, string> = {}) => ({
    values: { language: 'en', timeZone: 'UTC', ...values },
    errors,
    minPassword: MIN_PASSWORD_LENGTH,
  })

  app.get('/setup', async (request, reply) => {
    if (app.services.isSetUp()) throw new NotFoundError()
    return reply.render('pages/setup', form({ language: request.language }))
  })

  app.post('/setup', async (request, reply) => {
    if (app.services.isSetUp()) throw new NotFoundError()
    const f = new FormReader(request.body, request.t)
    const name = f.text('name', { required: true, max: 100 })
    const email = f.email('email')
    const password = f.password('password', { min: MIN_PASSWORD_LENGTH })
    const language = f.choice('language', LANGUAGES, 'en')
    const timeZone = f.text('timeZone', { required: true, max: 64 }) || 'UTC'
    if (!(f.errors.timeZone) && !isTimeZone(timeZone)) f.fail('timeZone', request.t('error.timeZone'))
    if (!f.ok) return reply.render('pages/setup', form(f.values, f.errors), { status: 422 })

    const passwordHash = await hashPassword(password)
    let user
    try {
      user = app.services.users.createFirstAdmin({ email, name, passwordHash, language, timeZone })
    } catch (error) {
      if (!(error instanceof DuplicateEmailError)) throw error
    }
    // Someone else finished setup in the meantime: this request created nothing.
    if (!user) throw new NotFoundError()
    app.services.audit.record({ id: user.id, name: user.name }, 'setup', user.email)
    await signIn(request, user.id)
    request.flash('success', translator(user.language)('setup.done'))
    // First stop: the new admin's own preferences (name, language, time zone).
    return reply.redirect('/preferences/general', 303)
  })
}
