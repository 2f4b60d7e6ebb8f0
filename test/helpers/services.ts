import crypto from 'node:crypto'
import type { Test } from 'tap'
import { loadConfig } from '../../src/config.js'
import { migrate, openDatabase, readMigrations } from '../../src/db/database.js'
import { silentLog } from '../../src/log.js'
import { migrationsDir } from '../../src/paths.js'
import { createServices, type Services } from '../../src/services.js'

/** A fake clock: starts at a fixed time and moves only when told. */
export function fakeClock(start = Date.parse('2030-01-01T08:00:00.000Z')) {
  let time = start
  return { now: () => time, advance: (ms: number) => (time += ms) }
}

/**
 * Every service of the app, without Fastify: an in-memory database with the real migrations, a fixed master
 * secret, a fake clock, no log. Closed when the test ends.
 */
export function testServices(t: Test, env: Record<string, string> = {}) {
  const db = openDatabase(':memory:')
  migrate(db, readMigrations(migrationsDir))
  const clock = fakeClock()
  const config = loadConfig({ DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent', SANDBOX: '0', ...env })
  const services: Services = createServices({ config, db, masterSecret: crypto.randomBytes(32), log: silentLog, now: clock.now })
  t.teardown(async () => {
    await services.stopWorkers()
    await services.close()
    db.close()
  })
  return { services, db, clock, config }
}
