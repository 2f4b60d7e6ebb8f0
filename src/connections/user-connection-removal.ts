/**
 * Removal of a user's own connection to the organization's provider: by the user (Preferences) or by an
 * administrator (Manage users). The grant is revoked at the provider where it can be; the tokens go either way.
 */
import type { AuditRepository } from '../db/repositories/audit.js'
import type { Actor } from './actor.js'
import type { UserConnectionRepository } from '../db/repositories/user-connections.js'
import type { AppRegistrations, Revoked } from './app-registrations.js'

export interface UserConnectionRemovalDeps {
  registrations: AppRegistrations
  connections: UserConnectionRepository
  audit: AuditRepository
}

export function createUserConnectionRemoval(deps: UserConnectionRemovalDeps) {
  return {
    async remove(connectionId: number, actor: Actor): Promise<{ provider: string; revoked: Revoked } | null> {
      const removed = deps.connections.remove(connectionId)
      if (!removed) return null
      const { connection } = removed
      const p = deps.registrations.adapter(connection.provider)
      const revoked = p ? await deps.registrations.revoke(p.id, removed.tokens) : 'nothing'
      const provider = p?.name ?? connection.provider
      deps.audit.record(actor, 'connection.remove', provider, { user: connection.userId, account: connection.accountEmail || connection.accountName, revoked })
      return { provider, revoked }
    },
  }
}

export type UserConnectionRemoval = ReturnType<typeof createUserConnectionRemoval>
