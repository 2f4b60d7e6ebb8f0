import type { FastifyInstance } from 'fastify'
import { signedIn } from '../plugins/auth.js'
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

/**
 * Every route of the app, registered explicitly (a single executable has no directory tree to scan), one plugin
 * per area with its prefix. Inside a signed-in scope every route has its user (currentUser); inside an admin
 * scope, an administrator.
 */
export default async function routes(app: FastifyInstance) {
  // Open to visitors.
  await app.register(setupRoutes)
  await app.register(signInRoutes)

  // Signed-in users.
  await app.register(signedIn('user', async (home) => {
    home.get('/', async (_request, reply) => reply.redirect('/follow-ups', 303))
  }))
  await app.register(signedIn('user', followUpRoutes), { prefix: '/follow-ups' })
  await app.register(signedIn('user', preferencesRoutes), { prefix: '/preferences' })
  await app.register(signedIn('user', emailSettingsRoutes('user')), { prefix: '/preferences/email' })
  await app.register(signedIn('user', preferencesVideoRoutes), { prefix: '/preferences/video-meetings' })
  await app.register(signedIn('user', oauthCallbackRoutes), { prefix: '/oauth' })

  // Administrators: Settings and maintenance.
  await app.register(signedIn('admin', userSettingsRoutes), { prefix: '/settings' })
  await app.register(signedIn('admin', emailSettingsRoutes('installation')), { prefix: '/settings/email' })
  await app.register(signedIn('admin', videoSettingsRoutes), { prefix: '/settings/video-meetings' })
  await app.register(signedIn('admin', manageUsersRoutes), { prefix: '/settings/video-meetings/users' })
  await app.register(signedIn('admin', followUpTypeRoutes), { prefix: '/settings/follow-up-types' })
  await app.register(signedIn('admin', auditLogRoutes), { prefix: '/settings/audit-log' })
}
