import type { FastifyInstance } from 'fastify'
import { FormReader } from '../forms.js'
import { dummyHash, hashPassword, verifyPassword } from '../security/passwords.js'
import { FailureLimiter } from '../security/rate-limit.js'
import { requireUser, safeNext, signIn } from '../plugins/auth.js'

const WINDOW_MS = 15 * 60 * 1000

export default async function signInRoutes(app: FastifyInstance) {
  // Per account and per address: slows guessing one password and spraying many, without revealing which
  // emails exist (unknown emails are counted exactly like known ones).
  const perAccount = new FailureLimiter(5, WINDOW_MS)
  const perAddress = new FailureLimiter(30, WINDOW_MS)

  app.get<{ Querystring: { next?: string } }>('/sign-in', async (request, reply) => {
    if (request.user) return reply.redirect(safeNext(request.query.next), 303)
    return reply.render('pages/sign-in', { next: safeNext(request.query.next, '') })
  })

  app.post('/sign-in', async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const email = f.text('email', { max: 254 }).toLowerCase()
    const password = f.password('password', { required: false })
    const next = safeNext(f.text('next', { max: 2000 }), '/')
    const accountKey = `account:${email}`
    const addressKey = `address:${request.ip}`

    const wait = Math.max(perAccount.retryAfter(accountKey), perAddress.retryAfter(addressKey))
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000))
      return reply.render(
        'pages/sign-in',
        { next, values: { email }, formError: request.t('signIn.tooMany', { minutes: Math.ceil(wait / 60000) }) },
        { status: 429 },
      )
    }

    const user = email && f.ok ? app.services.users.findByEmailWithHash(email) : undefined
    const check = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()))
    if (!user || !user.active || !check.ok) {
      perAccount.fail(accountKey)
      perAddress.fail(addressKey)
      request.log.info({ event: 'sign-in-failed' }, 'sign-in failed')
      return reply.render('pages/sign-in', { next, values: { email }, formError: request.t('signIn.failed') }, { status: 401 })
    }
    perAccount.clear(accountKey)
    if (check.needsRehash) app.services.users.updatePasswordHash(user.id, await hashPassword(password))
    await signIn(request, user.id)
    request.log.info({ event: 'sign-in', userId: user.id }, 'signed in')
    return reply.redirect(next, 303)
  })

  app.post('/sign-out', { preHandler: requireUser }, async (request, reply) => {
    // regenerate() deletes the old session from the store; the fresh anonymous one carries the message.
    await request.session.regenerate()
    request.flash('info', request.t('signIn.signedOut'))
    return reply.redirect('/sign-in', 303)
  })
}
