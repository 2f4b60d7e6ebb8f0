/**
 * The Sandbox as a Fastify plugin: a small but real OAuth 2.0 authorization server (authorization code + PKCE
 * S256, rotating refresh tokens, RFC 7009 revocation, RFC 9207 `iss`) and a meetings API, so the whole
 * "connect a video meeting provider" flow can be tried offline and driven end to end by browser tests.
 */
import type { FastifyInstance } from 'fastify'
import type { Db } from '../db/database.js'
import { sandboxApi } from './api.js'
import { sandboxClient, sandboxIssuer } from './endpoints.js'
import { sandboxPages } from './pages.js'
import { createSandboxStore } from './storage.js'

export interface SandboxOptions {
  /** The app's public URL (config.baseUrl), without a trailing slash. */
  baseUrl: string
  masterSecret: Buffer
  db: Db
  /** Milliseconds since the epoch; injected by tests to expire codes and tokens. */
  now?: () => number
}

export async function sandboxPlugin(app: FastifyInstance, options: SandboxOptions): Promise<void> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '')
  const context = {
    store: createSandboxStore(options.db, options.now ?? Date.now),
    client: sandboxClient(baseUrl, options.masterSecret),
    issuer: sandboxIssuer(baseUrl),
    joinUrl: (id: string) => `${baseUrl}/sandbox/meet/${id}`,
  }
  await sandboxPages(app, context)
  await app.register(async (api: FastifyInstance) => sandboxApi(api, context))
}
