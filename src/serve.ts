import type { FastifyInstance } from 'fastify'
import { buildApp, type AppDependencies } from './app.js'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'

export const SHUTDOWN_TIMEOUT_MS = 10_000

/**
 * Listens, and on SIGTERM/SIGINT stops accepting, finishes in-flight requests, closes the database, exits 0.
 * `deps` carries the single executable's embedded files (src/sea/main.ts).
 */
export async function serve(config: Config, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const app = await buildApp(config, { ...deps, logger: await loggerOptions(config) })
  let closing = false
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      app.log.warn({ signal }, 'second signal: exiting now')
      process.exit(1)
    }
    closing = true
    app.log.info({ signal }, 'shutting down')
    const timer = setTimeout(() => {
      app.log.error('shutdown took too long: exiting')
      process.exit(1)
    }, SHUTDOWN_TIMEOUT_MS)
    timer.unref()
    // Keep-alive connections whose in-flight request finishes during close() would otherwise hold it open.
    setInterval(() => app.server.closeIdleConnections(), 100).unref()
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
  await app.listen({ port: config.port, host: config.host })
  app.log.info({ url: config.baseUrl, dataDir: config.dataDir }, 'Video Meetings is ready')
  return app
}
