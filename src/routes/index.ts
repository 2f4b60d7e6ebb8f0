import type { FastifyInstance } from 'fastify'
import { requireUser } from '../plugins/guards.js'
import setupRoutes from './setup.js'
import signInRoutes from './sign-in.js'
import preferencesRoutes from './preferences.js'
import userSettingsRoutes from './settings/users.js'
import videoSettingsRoutes from './settings/video-meetings.js'
import auditLogRoutes from './settings/audit-log.js'
import oauthCallbackRoutes from './oauth-callback.js'
import preferencesVideoRoutes from './preferences-video.js'
import followUpRoutes from './follow-ups.js'
import manageUsersRoutes from './settings/manage-users.js'
import followUpTypeRoutes from './settings/follow-up-types.js'
import emailSettingsRoutes from './email-settings.js'

/** Every route of the app, registered explicitly (a single executable has no directory tree to scan). */
export default async function routes(app: FastifyInstance) {
  await app.register(setupRoutes)
  await app.register(signInRoutes)
  app.get('/', { preHandler: requireUser }, async (_request, reply) => reply.redirect('/follow-ups', 303))
  await app.register(preferencesRoutes)
  await app.register(userSettingsRoutes)
  await app.register(videoSettingsRoutes)
  await app.register(auditLogRoutes)
  await app.register(oauthCallbackRoutes)
  await app.register(preferencesVideoRoutes)
  await app.register(followUpRoutes)
  await app.register(manageUsersRoutes)
  await app.register(followUpTypeRoutes)
  await app.register(emailSettingsRoutes)
}
