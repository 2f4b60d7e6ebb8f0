import path from 'node:path'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import session, { type FastifySessionOptions, type SessionStore } from '@fastify/session'
import type { Config } from './config.js'
import { migrate, openDatabase, readMigrations, type Db } from './db/database.js'
import { authorizationOrigins } from './providers/endpoints.js'
import { createServices } from './services.js'
import { deriveKey, loadMasterSecret } from './security/keys.js'
import { migrationsDir } from './paths.js'
import { assetsPlugin, type AssetSource } from './plugins/assets.js'
import { csrfPlugin } from './plugins/csrf.js'
import { errorsPlugin } from './plugins/errors.js'
import { authPlugin } from './plugins/auth.js'
import { i18nPlugin } from './plugins/i18n.js'
import { pagesPlugin } from './plugins/pages.js'
import { providerSignInPlugin } from './plugins/provider-sign-in.js'
import { securityHeadersPlugin } from './plugins/security-headers.js'
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
  const services = createServices({ config, db, masterSecret, log: app.log })
  app.decorate('config', config)
  app.decorate('db', db)
  app.decorate('masterSecret', masterSecret)
  app.decorate('services', services)
  app.addHook('onReady', async () => {
    services.startSweeps()
    if (deps.startWorkers !== false) services.startWorkers()
  })
  app.addHook('preClose', () => services.stopWorkers())
  app.addHook('onClose', () => services.close())

  const formActionOrigins = authorizationOrigins(config.providers)
  await app.register(securityHeadersPlugin, { https: config.isHttps, formActionOrigins: () => formActionOrigins })
  await app.register(assetsPlugin, { sources: deps.assets })
  await app.register(healthRoutes, {
    expectedSchemaVersion: migrations.length,
    // Ready means invitations go out: the mail worker must be running (when this app runs workers).
    checks: deps.startWorkers === false ? [] : [{ name: 'mail worker', check: () => services.mail.mailer.healthy() }],
  })

  await app.register(formbody)
  await app.register(cookie)
  await app.register(session, sessionOptions(config, masterSecret, services.sessions))
  await app.register(csrfPlugin)
  await app.register(authPlugin)
  await app.register(i18nPlugin)
  await app.register(pagesPlugin, { cacheTemplates: config.cacheTemplates, readTemplate: deps.readTemplate })
  await app.register(errorsPlugin)
  await app.register(providerSignInPlugin)
  app.addHook('onRequest', setupGate(() => services.isSetUp()))
  await app.register(routes)
  if (services.sandboxPlugin) await app.register(services.sandboxPlugin)
  return app
}
