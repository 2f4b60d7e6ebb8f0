import type { Config } from './config.js'
import type { Db } from './db/database.js'
import type { AuditRepository } from './db/repositories/audit.js'
import type { User, UserRepository } from './db/repositories/users.js'
import type { Language } from './i18n/languages.js'
import type { Translate } from './i18n/index.js'
import type { SqliteSessionStore } from './plugins/session-store.js'
import type { VideoServices } from './connections/video-services.js'
import type { Vault } from './security/vault.js'
import type { FollowUpRepository } from './db/repositories/follow-ups.js'
import type { UserConnectionRepository } from './db/repositories/user-connections.js'
import type { MeetingSync } from './meetings/sync.js'
import type { MailSettingsRepository } from './mail/settings.js'
import type { OutboxRepository } from './mail/outbox.js'
import type { Mailer } from './mail/mailer.js'

export interface Repositories {
  users: UserRepository
  audit: AuditRepository
}

export interface Flash {
  kind: 'success' | 'error' | 'info'
  text: string
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    repos: Repositories
    sessionStore: SqliteSessionStore
    masterSecret: Buffer
    vault: Vault
    video: VideoServices
    followUps: FollowUpRepository
    connections: UserConnectionRepository
    meetings: MeetingSync
    mail: { settings: MailSettingsRepository; outbox: OutboxRepository; mailer: Mailer }
    routeTable: { method: string; url: string; csrf: boolean }[]
    /** Answers requests once the first administrator exists; false only on a fresh installation. */
    isSetUp(): boolean
  }
  interface FastifyRequest {
    user: User | null
    language: Language
    t: Translate
  }
  interface FastifyContextConfig {
    /** POST routes called by other servers (the Sandbox provider's token endpoint) opt out of the CSRF check. */
    csrf?: boolean
  }
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    userId?: number
    csrfToken?: string
    flash?: Flash
    /** A user's sign-in as another account, waiting for them to confirm it replaces their connection. */
    heldSignIn?: { state: string; account: string; previous: string; provider: string }
  }
}
