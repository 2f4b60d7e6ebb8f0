/**
 * The composition root: every service of the app, built from the database, the configuration, the master
 * secret, a clock and a logger, with no Fastify in sight. buildApp (src/app.ts) hands the result to Fastify as
 * one typed object; a unit test builds it the same way on an in-memory database with a fake clock.
 *
 * Order: storage (repositories that only store and read) → connections (app registrations, the OAuth flow,
 * tokens) → the domain (follow-ups, the meeting worker, the mail worker), wired by the events between them.
 */
import type { Config } from './config.js'
import type { Db } from './db/database.js'
import { transactor } from './db/transaction.js'
import { createAuditRepository } from './db/repositories/audit.js'
import { createUserRepository } from './db/repositories/users.js'
import { createOrganizationProviderRepository } from './db/repositories/organization-provider.js'
import { createPendingAuthorizationRepository } from './db/repositories/pending-authorizations.js'
import { createProviderClientRepository } from './db/repositories/provider-clients.js'
import { createUserConnectionRepository } from './db/repositories/user-connections.js'
import { createFollowUpRepository } from './db/repositories/follow-ups.js'
import { createFollowUpTypeRepository } from './db/repositories/follow-up-types.js'
import { createMeetingRepository } from './db/repositories/meetings.js'
import { createJobRepository } from './db/repositories/jobs.js'
import { createAppRegistrations } from './connections/app-registrations.js'
import { createAuthorization } from './connections/authorization.js'
import { createOrganizationProvider } from './connections/organization-provider.js'
import { createUserConnectionRemoval } from './connections/user-connection-removal.js'
import { videoServices } from './connections/video-services.js'
import { createTokenManager } from './connections/token-manager.js'
import { createFollowUpService } from './follow-ups/service.js'
import { createMeetingSync, INLINE_SYNC_BUDGET_MS } from './meetings/sync.js'
import { createMailSettingsRepository } from './db/repositories/mail-settings.js'
import { createOutboxRepository } from './db/repositories/outbox.js'
import { createMailer } from './mail/mailer.js'
import { createProviders } from './providers/registry.js'
import { createSandbox } from './sandbox/index.js'
import { SqliteSessionStore } from './db/repositories/sessions.js'
import { createAccountService } from './users/accounts.js'
import { Vault } from './security/vault.js'
import type { Log } from './log.js'

export interface ServiceDependencies {
  config: Config
  /** Open and migrated. */
  db: Db
  /** The installation's master secret (security/keys.ts): seals tokens and secrets, signs session cookies. */
  masterSecret: Buffer
  log: Log
  now?: () => number
}

export function createServices(deps: ServiceDependencies) {
  const { config, db, masterSecret, log } = deps
  const now = deps.now ?? Date.now
  const transact = transactor(db)
  const vault = new Vault(masterSecret)

  // Storage.
  const users = createUserRepository(db)
  const audit = createAuditRepository(db)
  const pending = createPendingAuthorizationRepository(db)
  const connections = createUserConnectionRepository(db, vault, now)
  const outbox = createOutboxRepository(db, now)
  const mailSettings = createMailSettingsRepository(db, vault)
  const followUps = createFollowUpRepository(db, now)
  const followUpTypes = createFollowUpTypeRepository(db)
  const meetingRecords = createMeetingRepository(db)
  const jobs = createJobRepository(db)
  const sessions = new SqliteSessionStore(db, config.sessionTtlSeconds * 1000, now)
  const accounts = createAccountService({ transact, users, sessions })

  // Connections to the providers. The Sandbox, when enabled, is one more provider (with its own app
  // registration) and a Fastify plugin that app.ts registers.
  const sandbox = config.providers.sandbox ? createSandbox({ baseUrl: config.baseUrl, internalUrl: config.providers.internalUrl, masterSecret, db, now }) : null
  const registrations = createAppRegistrations({
    config,
    vault,
    providers: [...createProviders(config.providers), ...(sandbox ? [sandbox.provider] : [])],
    clients: createProviderClientRepository(db),
    audit,
    now,
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
      // Meetings that waited for this user's sign-in go now.
      onUserConnected: (userId) => {
        jobs.wakeForUser(userId, now())
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
    log,
    now,
  })

  // The domain.
  const meetings = createMeetingSync({
    transact,
    followUps,
    meetings: meetingRecords,
    jobs,
    connections,
    tokens,
    video,
    log,
    now,
    // Invitations that waited for the video link may go now.
    onMeetingChanged: (followUpId) => {
      outbox.releaseWaiting(followUpId)
    },
  })
  const mailer = createMailer({
    transact,
    outbox,
    settings: mailSettings,
    followUps,
    video,
    log,
    now,
    timeouts: { connectionMs: config.smtpTimeoutMs, greetingMs: config.smtpTimeoutMs, socketMs: config.smtpTimeoutMs * 3 },
  })
  const followUpService = createFollowUpService({
    transact,
    followUps,
    meetings: meetingRecords,
    jobs,
    outbox,
    mailSettings: (userId) => mailSettings.effective(userId),
    organizationProvider: () => {
      const organization = video.organization()
      return organization && { id: organization.provider, signIn: organization.adapter.oauth !== null }
    },
    isConnected: (userId, provider) => {
      const connection = connections.findForUser(userId, provider)
      return connection !== undefined && connection.status !== 'needs_reconnect'
    },
    syncNow: (followUpId) => meetings.syncNow(followUpId, INLINE_SYNC_BUDGET_MS),
    host: new URL(config.baseUrl).hostname,
    now,
  })

  let setUp = users.count() > 0
  let sweep: NodeJS.Timeout | null = null

  return {
    config,
    vault,
    users,
    accounts,
    audit,
    sessions,
    video,
    connections,
    tokens,
    followUps,
    followUpTypes,
    followUpService,
    meetingRecords,
    meetings,
    mail: { settings: mailSettings, outbox, mailer },
    /** The offline provider's Fastify plugin (its sign-in page and API), when the Sandbox is enabled. */
    sandboxPlugin: sandbox?.plugin ?? null,
    /** Answers requests once the first administrator exists; false only on a fresh installation. */
    isSetUp: () => (setUp ||= users.count() > 0),

    /** The background work: the meeting and mail workers, and the sweep of expired sessions and sign-in states. */
    startWorkers(): void {
      meetings.start()
      mailer.start()
    },
    startSweeps(): void {
      sweep ??= setInterval(() => {
        sessions.sweep()
        pending.sweep()
      }, 15 * 60 * 1000).unref()
    },
    /** Stops taking jobs and lets the ones running finish (first, at shutdown: they may still need the rest). */
    async stopWorkers(): Promise<void> {
      await Promise.all([meetings.stop(), mailer.stop()])
    },
    /** Then: no more sweeps, and the provider clients closed. */
    async close(): Promise<void> {
      if (sweep) clearInterval(sweep)
      sweep = null
      await registrations.close()
    },
  }
}

export type Services = ReturnType<typeof createServices>
