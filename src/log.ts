/**
 * The logger the domain writes to: the part of pino's interface it uses. Fastify's logger (pino) is one; the
 * composition root hands it to every service, and unit tests pass `silentLog` or a recording one.
 */
export interface Log {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} }
