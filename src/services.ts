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
import { createVideoService } from './connections/video-service.js'
import { createTokenManager } from './connections/token-manager.js'
import { createFollowUpService } from './follow-ups/service.js'
import { createMeetingSync, INLINE_SYNC_BUDGET_MS } from './meetings/sync.js'
import { createMailSettingsRepository } from './db/repositories/mail-settings.js'
import { createOutboxRepository } from './db/repositories/outbox.js'
import { createMailer } from './mail/mailer.js'
import { createProviders } from './providers/registry.js'
import type { ProviderId } from './providers/contract.js'
import { sandboxClient } from './sandbox/server.js'
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

  // Connections to the providers.
  const sandbox = config.providers.sandbox ? sandboxClient(config.baseUrl, masterSecret) : undefined
  const video = createVideoService({
    config,
    vault,
    providers: createProviders(config),
    clients: createProviderClientRepository(db),
    organization: createOrganizationProviderRepository(db),
    pending,
    audit,
    connections,
    // Meetings that waited for this user's sign-in go now.
    onUserConnected: (userId) => {
      jobs.wakeForUser(userId, now())
    },
    ...(sandbox && { sandboxClient: { id: sandbox.id, secret: sandbox.secret } }),
    now,
  })
  const tokens = createTokenManager({
    db,
    connections,
    clientFor: (provider) => video.oauthClient(provider as ProviderId),
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
    /** The Sandbox's built-in app registration, when the Sandbox is enabled. */
    sandbox,
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
      await video.close()
    },
  }
}

export type Services = ReturnType<typeof createServices>
