import type { FastifyInstance } from 'fastify'
import { schemaVersion } from '../db/database.js'

/** For load balancers and systemd: no session, no secrets. */
export default async function healthRoutes(app: FastifyInstance, options: { expectedSchemaVersion: number }) {
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    try {
      // A write proves the database is writable (not only readable), without leaving anything behind.
      app.db.exec('BEGIN IMMEDIATE; ROLLBACK')
      const version = schemaVersion(app.db)
      if (version !== options.expectedSchemaVersion) return reply.code(503).send({ status: 'migrations pending' })
      return reply.send({ status: 'ready' })
    } catch {
      return reply.code(503).send({ status: 'database unavailable' })
    }
  })
}
