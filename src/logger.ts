import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'
import { requestSerializers } from './app.js'

/**
 * pino settings for the server: JSON lines by default, readable lines with LOG_FORMAT=pretty. Request lines
 * carry the path without its query (OAuth codes), and any header that could hold a credential is redacted.
 */
export async function loggerOptions(config: Config): Promise<FastifyServerOptions['logger']> {
  const base = {
    level: config.logLevel,
    serializers: requestSerializers,
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'req.headers["x-csrf-token"]',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
      ],
      censor: '[redacted]',
    },
  }
  if (config.logFormat === 'pretty') {
    // A synchronous stream in this thread: no transport worker (which a single executable cannot start).
    // Loaded only when asked for: JSON logs (the default) need none of it, and it costs start-up time.
    const { default: pinoPretty } = await import('pino-pretty')
    return { ...base, stream: pinoPretty({ sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l' }) }
  }
  return base
}
