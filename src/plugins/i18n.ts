import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { languageFromHeader, translator } from '../i18n/index.js'

/** The language we speak to each request: the signed-in user's setting, else the browser's (Accept-Language). */
export const i18nPlugin = fp(
  async function i18n(app: FastifyInstance) {
    app.decorateRequest('language', 'en')
    app.decorateRequest('t', translator('en'))
    app.addHook('preHandler', async (request) => {
      request.language = request.user?.language ?? languageFromHeader(request.headers['accept-language'])
      request.t = translator(request.language)
    })
  },
  { name: 'i18n', dependencies: ['auth'] },
)
