/**
 * The floor: what every signed-in page pays before it does any work of its own. The same bytes as the limit,
 * from memory, but through what the issue fixes as our stack and what operations need on every request:
 * @fastify/cookie and @fastify/session with the app's own options (src/app.ts sessionOptions), the app's
 * logger settings and its one request-log line (logRequest). The store is a Map loaded from the seeded
 * database's sessions table at start, so no SQLite, no template and no hook of ours runs per request.
 * A page can come close to this run, never above it: its ratio to the limit is the ceiling for the targets.
 * Usage (run by bench/run.ts via tsx, with the server's environment): floor-server <file> <port> [encoding]
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import Fastify, { LogController } from 'fastify'
import cookie from '@fastify/cookie'
import session, { type SessionStore } from '@fastify/session'
import { DATABASE_FILE, logRequest, sessionOptions } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { loggerOptions } from '../src/logger.js'
import { loadMasterSecret } from '../src/security/keys.js'

const [file, port, encoding] = process.argv.slice(2)
if (!file || !port) throw new Error('usage: floor-server <file> <port> [encoding]')
const body = fs.readFileSync(file)
const config = loadConfig(process.env)

const db = new Database(path.join(config.dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true })
const stored = new Map(db.prepare<[], { id_hash: string; data: string }>('SELECT id_hash, data FROM sessions').all().map((r) => [r.id_hash, r.data]))
db.close()
const hashId = (id: string) => crypto.createHash('sha256').update(id).digest('base64url')

/** The same contract as SqliteSessionStore (hashed ids, JSON), in memory. */
const store: SessionStore = {
  get(id, callback) {
    const data = stored.get(hashId(id))
    callback(null, data === undefined ? null : JSON.parse(data))
  },
  set(id, value, callback) {
    stored.set(hashId(id), JSON.stringify(value))
    callback()
  },
  destroy(id, callback) {
    stored.delete(hashId(id))
    callback()
  },
}

const app = Fastify({ logger: await loggerOptions(config), logController: new LogController({ disableRequestLogging: true }) })
await app.register(cookie)
await app.register(session, sessionOptions(config, loadMasterSecret(config.dataDir, config.secretKey), store))
app.addHook('onResponse', logRequest)
app.get('/', (request, reply) => {
  if (typeof request.session.userId !== 'number') return reply.code(401).send('not signed in')
  reply.header('content-type', 'text/html; charset=utf-8')
  if (encoding) reply.header('content-encoding', encoding)
  return reply.send(body)
})
await app.listen({ port: Number(port), host: '127.0.0.1' })
process.send?.('ready')
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
