import type { FastifyInstance } from 'fastify'
import { FormReader, isTimeZone } from '../../forms.js'
import { LANGUAGES } from '../../i18n/index.js'
import { hashPassword, MIN_PASSWORD_LENGTH } from '../../security/passwords.js'
import { DuplicateEmailError, LastAdminError, type Role, type User } from '../../db/repositories/users.js'
import { NotFoundError } from '../../errors.js'
import { actorOf, currentUser } from '../../plugins/auth.js'

const ROLES: readonly Role[] = ['user', 'admin']

/** Settings and maintenance (prefix /settings, administrators) → Users: administrators manage accounts. */
export default async function userSettingsRoutes(app: FastifyInstance) {
  const listPage = (values: Record<string, string> = {}, errors: Record<string, string> = {}) => ({
    tab: 'users',
    users: app.services.users.list(),
    values: { role: 'user', language: 'en', ...values },
    errors,
    minPassword: MIN_PASSWORD_LENGTH,
  })
  const findUser = (id: string): User => {
    const user = /^\d{1,12}$/.test(id) ? app.services.users.findById(Number(id)) : undefined
    if (!user) throw new NotFoundError()
    return user
  }

  app.get('/', async (_request, reply) => reply.redirect('/settings/users', 303))

  app.get('/users', async (_request, reply) => reply.render('pages/settings/users', listPage()))

  app.post('/users', async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const name = f.text('name', { required: true, max: 100 })
    const email = f.email('email')
    const password = f.password('password', { min: MIN_PASSWORD_LENGTH })
    const role = f.choice('role', ROLES)
    const language = f.choice('language', LANGUAGES)
    if (!f.ok) return reply.invalid('pages/settings/users', listPage(f.values, f.errors))
    try {
      const timeZone = isTimeZone(currentUser(request).timeZone) ? currentUser(request).timeZone : 'UTC'
      const user = app.services.users.create({ name, email, passwordHash: await hashPassword(password), role, language, timeZone })
      app.services.audit.record(actorOf(currentUser(request)), 'user.create', user.email, { role })
      request.flash('success', request.t('users.created', { name: user.name }))
      return reply.redirect('/settings/users', 303)
    } catch (error) {
      if (!(error instanceof DuplicateEmailError)) throw error
      f.fail('email', request.t('error.emailTaken'))
      return reply.invalid('pages/settings/users', listPage(f.values, f.errors))
    }
  })

  const editPage = (user: User, extra: Record<string, unknown> = {}) => ({
    tab: 'users',
    subject: user,
    minPassword: MIN_PASSWORD_LENGTH,
    values: { role: user.role },
    errors: {},
    ...extra,
  })

  app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) =>
    reply.render('pages/settings/user', editPage(findUser(request.params.id))),
  )

  app.post<{ Params: { id: string } }>('/users/:id/role', async (request, reply) => {
    const subject = findUser(request.params.id)
    const f = new FormReader(request.body, request.t)
    const role = f.choice('role', ROLES)
    if (!f.ok) return reply.invalid('pages/settings/user', editPage(subject, { values: f.values, errors: f.errors }))
    try {
      app.services.users.setRole(subject.id, role)
    } catch (error) {
      if (!(error instanceof LastAdminError)) throw error
      return reply.render('pages/settings/user', editPage(subject, { formError: request.t('users.lastAdmin') }), { status: 409 })
    }
    app.services.audit.record(actorOf(currentUser(request)), 'user.role', subject.email, { role })
    request.flash('success', request.t('users.roleSaved', { name: subject.name }))
    return reply.redirect(`/settings/users/${subject.id}`, 303)
  })

  app.post<{ Params: { id: string } }>('/users/:id/password', async (request, reply) => {
    const subject = findUser(request.params.id)
    const f = new FormReader(request.body, request.t)
    const password = f.password('password', { min: MIN_PASSWORD_LENGTH })
    if (!f.ok) return reply.invalid('pages/settings/user', editPage(subject, { errors: f.errors }))
    // Whoever knew the old password is signed out (the admin resetting their own password included).
    app.services.accounts.setPassword(subject.id, await hashPassword(password))
    app.services.audit.record(actorOf(currentUser(request)), 'user.password', subject.email)
    if (subject.id === currentUser(request).id) return reply.redirect('/sign-in', 303)
    request.flash('success', request.t('users.passwordReset', { name: subject.name }))
    return reply.redirect(`/settings/users/${subject.id}`, 303)
  })

  app.post<{ Params: { id: string } }>('/users/:id/active', async (request, reply) => {
    const subject = findUser(request.params.id)
    const f = new FormReader(request.body, request.t)
    const active = f.choice('active', ['true', 'false'] as const) === 'true'
    if (!f.ok) return reply.invalid('pages/settings/user', editPage(subject, { errors: f.errors }))
    try {
      app.services.accounts.setActive(subject.id, active)
    } catch (error) {
      if (!(error instanceof LastAdminError)) throw error
      return reply.render('pages/settings/user', editPage(subject, { formError: request.t('users.lastAdmin') }), { status: 409 })
    }
    app.services.audit.record(actorOf(currentUser(request)), active ? 'user.activate' : 'user.deactivate', subject.email)
    if (!active && subject.id === currentUser(request).id) return reply.redirect('/sign-in', 303)
    request.flash('success', request.t(active ? 'users.activated' : 'users.deactivated', { name: subject.name }))
    return reply.redirect(`/settings/users/${subject.id}`, 303)
  })
}
