import path from 'node:path'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import session, { type FastifySessionOptions, type SessionStore } from '@fastify/session'
import type { Config } from './config.js'
import { migrate, openDatabase, readMigrations, type Db } from './db/database.js'
import { createAuditRepository } from './db/repositories/audit.js'
import { createUserRepository } from './db/repositories/users.js'
import { createOrganizationProviderRepository } from './db/repositories/organization-provider.js'
import { createPendingAuthorizationRepository } from './db/repositories/pending-authorizations.js'
import { createProviderClientRepository } from './db/repositories/provider-clients.js'
import { createAppRegistrations } from './connections/app-registrations.js'
import { createAuthorization } from './connections/authorization.js'
import { createOrganizationProvider } from './connections/organization-provider.js'
import { createUserConnectionRemoval } from './connections/user-connection-removal.js'
import { videoServices } from './connections/video-services.js'
import { createTokenManager } from './connections/token-manager.js'
import { createUserConnectionRepository } from './db/repositories/user-connections.js'
import { createFollowUpRepository } from './db/repositories/follow-ups.js'
import { createJobRepository } from './db/repositories/jobs.js'
import { createMeetingSync } from './meetings/sync.js'
import { createMailSettingsRepository } from './mail/settings.js'
import { createOutboxRepository } from './mail/outbox.js'
import { createMailer } from './mail/mailer.js'
import { authorizationOrigins } from './providers/endpoints.js'
import { createProviders } from './providers/registry.js'
import { createSandbox } from './sandbox/index.js'
import { Vault } from './security/vault.js'
import { deriveKey, loadMasterSecret } from './security/keys.js'
import { migrationsDir } from './paths.js'
import { assetsPlugin, type AssetSource } from './plugins/assets.js'
import { csrfPlugin } from './plugins/csrf.js'
import { errorsPlugin } from './plugins/errors.js'
import { pagesPlugin } from './plugins/pages.js'
import { securityHeadersPlugin } from './plugins/security-headers.js'
import { SqliteSessionStore } from './plugins/session-store.js'
import { setupGate } from './routes/setup.js'
import healthRoutes from './routes/health.js'
import routes from './routes/index.js'
import './types.js'

export const DATABASE_FILE = 'video-meetings.db'

export interface AppDependencies {
  /** Fastify's logger option; tests pass false, the server passes its pino settings. */
  logger?: FastifyServerOptions['logger']
  /** An already opened database (tests may share one); otherwise DATA_DIR/video-meetings.db is opened. */
  db?: Db
  /** Embedded files for the single executable; otherwise read from disk at start. */
  assets?: AssetSource[]
  migrationsSql?: { version: number; name: string; sql: string }[]
  readTemplate?: (file: string) => string
  /** Background workers (meeting sync); tests that drive jobs by hand turn them off. */
  startWorkers?: boolean
}

/** Request logs carry the method and path only: OAuth codes and states arrive in query strings. */
export const requestSerializers = {
  req(request: { method: string; url: string; ip?: string; id?: string }) {
    return { method: request.method, path: request.url.split('?', 1)[0], ip: request.ip, id: request.id }
  },
}

/** The one line per request (instead of fastify's two): path without query, status, time, user id. */
export async function logRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const level = reply.statusCode >= 500 ? 'error' : request.routeOptions.logLevel === 'warn' ? 'debug' : 'info'
  request.log[level]({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, user: request.user?.id }, 'request')
}

/**
 * @fastify/session as this app uses it: nothing stored for visitors who never sign in, no store write
 * per request (no rolling), SameSite=Lax (the OAuth return must arrive signed in), Secure under https.
 */
export function sessionOptions(config: Config, masterSecret: Buffer, store: SessionStore): FastifySessionOptions {
  return {
    secret: deriveKey(masterSecret, 'session-cookie').toString('base64'),
    cookieName: config.isHttps ? '__Host-vm_session' : 'vm_session',
    store,
    saveUninitialized: false,
    rolling: false,
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: config.isHttps ? true : 'auto',
      maxAge: config.sessionTtlSeconds * 1000,
    },
  }
}

/**
 * No route declares a JSON schema: forms are read and checked by FormReader (src/forms.ts), which gives
 * each field its message in the user's language, and pages are HTML. Fastify would still load Ajv and
 * fast-json-stringify for schemas at start-up (measured: about 70 ms of it); these stand-ins say so loudly,
 * when the app is built, if a schema is ever added.
 */
const NO_JSON_SCHEMAS = {
  buildValidator: () => () => {
    throw new Error('JSON schemas are not used here: read and check the input with FormReader (src/forms.ts)')
  },
  buildSerializer: () => () => {
    throw new Error('JSON schemas are not used here: response bodies are HTML or built by hand')
  },
}

/** Builds the whole app without listening: the server and the tests both start from here. */
export async function buildApp(config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    trustProxy: config.trustProxy,
    bodyLimit: 256 * 1024,
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
    // One line per request, written in onResponse below, instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    schemaController: { compilersFactory: NO_JSON_SCHEMAS },
  })

  // The route table, for tests that must cover every route (CSRF, access) without a hand-kept list.
  const routeTable: { method: string; url: string; csrf: boolean }[] = []
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url, csrf: route.config?.csrf !== false })
  })
  app.decorate('routeTable', routeTable)

  const db = deps.db ?? openDatabase(path.join(config.dataDir, DATABASE_FILE))
  const migrations = deps.migrationsSql ?? readMigrations(migrationsDir)
  migrate(db, migrations)
  app.addHook('onClose', async () => {
    if (!db.open) return
    if (!deps.db) {
      // Fold the WAL into the main file so a copied database file is complete.
      db.pragma('wal_checkpoint(TRUNCATE)')
      db.close()
    }
  })

  app.addHook('onResponse', logRequest)

  const masterSecret = loadMasterSecret(config.dataDir, config.secretKey)
  const users = createUserRepository(db)
  let setUp = users.count() > 0
  app.decorate('config', config)
  app.decorate('db', db)
  app.decorate('masterSecret', masterSecret)
  app.decorate('repos', { users, audit: createAuditRepository(db) })
  app.decorate('isSetUp', () => (setUp ||= users.count() > 0))

  const vault = new Vault(masterSecret)
  app.decorate('vault', vault)
  const audit = app.repos.audit
  const pending = createPendingAuthorizationRepository(db)
  const connections = createUserConnectionRepository(db, vault)
  const outbox = createOutboxRepository(db)
  const mailSettings = createMailSettingsRepository(db, vault)
  const followUps = createFollowUpRepository(db, Date.now, outbox)
  const jobs = createJobRepository(db)
  // The Sandbox, when enabled, is one more provider (with its own registration) and a plugin registered below.
  const sandbox = config.providers.sandbox ? createSandbox({ baseUrl: config.baseUrl, internalUrl: config.providers.internalUrl, masterSecret, db }) : null
  const registrations = createAppRegistrations({
    config,
    vault,
    providers: [...createProviders(config.providers), ...(sandbox ? [sandbox.provider] : [])],
    clients: createProviderClientRepository(db),
    audit,
  })
  const organizationProvider = createOrganizationProvider({ registrations, vault, organization: createOrganizationProviderRepository(db), audit })
  const video = videoServices({
    registrations,
    organizationProvider,
    authorization: createAuthorization({
      registrations,
      organizationProvider,
      vault,
      pending,
      connections,
      audit,
      onUserConnected: (userId) => {
        // Meetings that waited for this user's sign-in go now.
        jobs.wakeForUser(userId, Date.now())
      },
    }),
    connectionRemoval: createUserConnectionRemoval({ registrations, connections, audit }),
  })
  const tokens = createTokenManager({
    db,
    connections,
    clientFor: (provider) => registrations.oauthClient(provider),
    // Longer than any token request may take, so a slow refresh never loses its lease.
    leaseMs: config.providers.httpTimeoutMs * 3,
    log: app.log,
  })
  const mailer = createMailer({
    outbox,
    settings: mailSettings,
    followUps,
    video,
    log: app.log,
    timeouts: { connectionMs: config.smtpTimeoutMs, greetingMs: config.smtpTimeoutMs, socketMs: config.smtpTimeoutMs * 3 },
  })
  const meetings = createMeetingSync({
    followUps,
    jobs,
    connections,
    tokens,
    video,
    log: app.log,
    // Invitations that waited for the video link may go now.
    onMeetingChanged: (followUpId) => {
      outbox.releaseWaiting(followUpId)
    },
  })
  app.decorate('video', video)
  app.decorate('followUps', followUps)
  app.decorate('connections', connections)
  app.decorate('meetings', meetings)
  app.decorate('mail', { settings: mailSettings, outbox, mailer })
  app.addHook('onReady', async () => {
    if (deps.startWorkers !== false) {
      meetings.start()
      mailer.start()
    }
  })
  // Stop taking jobs first, let the one running finish, then close provider clients.
  app.addHook('preClose', async () => {
    await Promise.all([meetings.stop(), mailer.stop()])
  })
  app.addHook('onClose', () => registrations.close())

  const sessionStore = new SqliteSessionStore(db, config.sessionTtlSeconds * 1000)
  app.decorate('sessionStore', sessionStore)
  const sweep = setInterval(() => {
    sessionStore.sweep()
    pending.sweep()
  }, 15 * 60 * 1000).unref()
  app.addHook('onClose', async () => clearInterval(sweep))

  const formActionOrigins = authorizationOrigins(config.providers)
  await app.register(securityHeadersPlugin, { https: config.isHttps, formActionOrigins: () => formActionOrigins })
  await app.register(assetsPlugin, { sources: deps.assets })
  await app.register(healthRoutes, {
    expectedSchemaVersion: migrations.length,
    // Ready means invitations go out: the mail worker must be running (when this app runs workers).
    checks: deps.startWorkers === false ? [] : [{ name: 'mail worker', check: () => mailer.healthy() }],
  })

  await app.register(formbody)
  await app.register(cookie)
  await app.register(session, sessionOptions(config, masterSecret, sessionStore))
  await app.register(csrfPlugin)
  await app.register(pagesPlugin, { cacheTemplates: config.cacheTemplates, readTemplate: deps.readTemplate })
  await app.register(errorsPlugin)
  app.addHook('onRequest', setupGate(app))
  await app.register(routes)
  if (sandbox) await app.register(sandbox.plugin)
  return app
}
