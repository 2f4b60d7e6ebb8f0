import type { Config } from './config.js'
import type { Db } from './db/database.js'
import type { User } from './db/repositories/users.js'
import type { Language } from './i18n/languages.js'
import type { Translate } from './i18n/index.js'
import type { Services } from './services.js'

export interface Flash {
  kind: 'success' | 'error' | 'info'
  text: string
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Db
    masterSecret: Buffer
    /** Every service of the app (src/services.ts): what routes call. */
    services: Services
    routeTable: { method: string; url: string; csrf: boolean }[]
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
