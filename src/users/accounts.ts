import type { Transact } from '../db/transaction.js'
import type { SqliteSessionStore } from '../db/repositories/sessions.js'
import type { UserRepository } from '../db/repositories/users.js'

/**
 * What an account change means beyond the users table: a new password or a deactivation ends the user's
 * sessions everywhere, in the same transaction. Used by Settings → Users and by the CLI.
 */
export function createAccountService(deps: { transact: Transact; users: UserRepository; sessions: SqliteSessionStore }) {
  const { transact, users, sessions } = deps
  return {
    /** Whoever knew the old password is signed out. */
    setPassword(userId: number, passwordHash: string): void {
      transact(() => {
        users.updatePasswordHash(userId, passwordHash)
        sessions.endAllOf(userId)
      })
    },
    /** Throws LastAdminError when it would leave no active administrator (nothing changes then). */
    setActive(userId: number, active: boolean): void {
      transact(() => {
        users.setActive(userId, active)
        if (!active) sessions.endAllOf(userId)
      })
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
