import type { Db } from './database.js'

/**
 * Runs `work` in one write transaction (BEGIN IMMEDIATE: it takes the write lock at once, so two saves never
 * deadlock on upgrading); nested calls become savepoints. `work` is synchronous: nothing may be awaited in a
 * SQLite transaction, so network calls happen before or after it.
 */
export type Transact = <T>(work: () => T) => T

export function transactor(db: Db): Transact {
  return (work) => db.transaction(work).immediate()
}
