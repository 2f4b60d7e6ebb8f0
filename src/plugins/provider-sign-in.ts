import type { FastifyInstance, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { currentUser } from './auth.js'

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Sends the signed-in user to their organization provider's sign-in page, to come back to `returnTo`. A plain
     * form gets 303 to the provider; an htmx (boosted) request gets HX-Redirect, since a fetch cannot follow a
     * cross-origin redirect into a page.
     */
    sendToProviderSignIn(returnTo: string): Promise<FastifyReply>
  }
}

/** The way to a provider's sign-in, for every route that needs one (a save with video, Connect, Reconnect). */
export const providerSignInPlugin = fp(
  async function providerSignIn(app: FastifyInstance) {
    const { organization, registrations, authorization } = app.services.video
    app.decorateReply('sendToProviderSignIn', async function (this: FastifyReply, returnTo: string): Promise<FastifyReply> {
      const request = this.request
      const current = organization()
      if (!current?.adapter.oauth) return this.redirect(returnTo, 303)
      if (!registrations.status(current.adapter.id).source) {
        // The app registration is missing or its secret no longer opens: only an administrator can fix that.
        request.flash('error', request.t('connection.notSetUp', { provider: current.adapter.name }))
        return this.redirect(returnTo, 303)
      }
      const url = await authorization.start(current.adapter.id, { userId: currentUser(request).id, sessionId: request.session.sessionId, purpose: 'user', returnTo })
      this.header('cache-control', 'no-store')
      if (request.headers['hx-request'] === 'true') return this.header('hx-redirect', url).code(200).send('')
      return this.redirect(url, 303)
    })
  },
  { name: 'provider-sign-in', dependencies: ['auth', 'pages'] },
)
