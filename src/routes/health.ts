import type { FastifyInstance } from 'fastify'
import { schemaVersion } from '../db/database.js'

/**
 * A readiness condition besides the database, e.g. the mail worker:
 * `{ name: 'mail worker', check: () => worker.running }`. A check that throws counts as not ready.
 */
export interface ReadinessCheck {
  /** Shown in the 503 answer (no secrets in it). */
  name: string
  check(): boolean | Promise<boolean>
}

export interface HealthOptions {
  expectedSchemaVersion: number
  /**
   * Extra readiness checks. The array is read on every request, so a module started later (the mail worker)
   * can push its check after registration: in app.ts keep the array and pass it here.
   */
  checks?: ReadinessCheck[]
}

/** For load balancers and systemd: no session, no secrets. */
export default async function healthRoutes(app: FastifyInstance, options: HealthOptions) {
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    try {
      // A write proves the database is writable (not only readable), without leaving anything behind.
      app.db.exec('BEGIN IMMEDIATE; ROLLBACK')
      const version = schemaVersion(app.db)
      if (version !== options.expectedSchemaVersion) return reply.code(503).send({ status: 'migrations pending' })
    } catch {
      return reply.code(503).send({ status: 'database unavailable' })
    }
    const failing: string[] = []
    for (const { name, check } of options.checks ?? []) {
      const ok = await Promise.resolve()
        .then(check)
        .catch(() => false)
      if (ok !== true) failing.push(name)
    }
    if (failing.length > 0) return reply.code(503).send({ status: 'not ready', failing })
    return reply.send({ status: 'ready' })
  })
}
