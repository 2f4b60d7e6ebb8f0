import type { FastifyInstance } from 'fastify'
import { FormReader, isTimeZone, timeZones } from '../forms.js'
import { LANGUAGES, translator } from '../i18n/index.js'
import { currentUser } from '../plugins/auth.js'

/** Preferences (prefix /preferences): every user's own settings, one URL per tab so each works without JavaScript. */
export default async function preferencesRoutes(app: FastifyInstance) {
  app.get('/', async (_request, reply) => reply.redirect('/preferences/general', 303))

  const general = (values: Record<string, string>, errors: Record<string, string> = {}) => ({
    tab: 'general',
    values,
    errors,
    timeZones: timeZones(),
  })

  app.get('/general', async (request, reply) => {
    const user = currentUser(request)
    return reply.render('pages/preferences/general', general({ name: user.name, language: user.language, timeZone: user.timeZone }))
  })

  app.post('/general', async (request, reply) => {
    const f = new FormReader(request.body, request.t)
    const name = f.text('name', { required: true, max: 100 })
    const language = f.choice('language', LANGUAGES)
    const timeZone = f.text('timeZone', { required: true, max: 64 })
    if (!f.errors.timeZone && !isTimeZone(timeZone)) f.fail('timeZone', request.t('error.timeZone'))
    if (!f.ok) return reply.invalid('pages/preferences/general', general(f.values, f.errors))
    app.services.users.updateProfile(currentUser(request).id, { name, language, timeZone })
    request.flash('success', translator(language)('preferences.saved'))
    return reply.redirect('/preferences/general', 303)
  })
}
