/**
 * The Sandbox's one entry: the composition root calls it only when the Sandbox is enabled (config
 * providers.sandbox) and gets back the provider adapter, with its built-in client registration, to add to the
 * provider list, and the Fastify plugin that serves the Sandbox (register it as it is: no options).
 */
import type { FastifyInstance } from 'fastify'
import type { Db } from '../db/database.js'
import type { ProviderAdapter } from '../providers/contract.js'
import { createSandboxProvider } from './adapter.js'
import { sandboxClient, sandboxEndpoints, sandboxIssuer } from './endpoints.js'
import { sandboxPlugin } from './plugin.js'

export interface SandboxDependencies {
  /** config.baseUrl: where browsers reach the sign-in page. */
  baseUrl: string
  /** config.providers.internalUrl: where the app's server reaches the token endpoint and API. */
  internalUrl: string
  masterSecret: Buffer
  db: Db
  now?: () => number
}

export interface Sandbox {
  provider: ProviderAdapter
  plugin: (app: FastifyInstance) => Promise<void>
}

export function createSandbox(deps: SandboxDependencies): Sandbox {
  const client = sandboxClient(deps.baseUrl, deps.masterSecret)
  const provider = createSandboxProvider(sandboxIssuer(deps.baseUrl), {
    client: { id: client.id, secret: client.secret },
    endpoints: sandboxEndpoints(deps.baseUrl, deps.internalUrl),
  })
  const options = { baseUrl: deps.baseUrl, masterSecret: deps.masterSecret, db: deps.db, ...(deps.now && { now: deps.now }) }
  return { provider, plugin: (app) => sandboxPlugin(app, options) }
}
