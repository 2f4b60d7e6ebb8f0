import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { publicDir } from '../paths.js'

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
}

interface Asset {
  body: Buffer
  gzip?: Buffer
  brotli?: Buffer
  type: string
  hash: string
}

export interface AssetSource {
  /** URL path below /assets/<hash>/, e.g. "css/app.css". */
  name: string
  body: Buffer
}

/** What is served: everything in public/, plus htmx from its npm package (never from a CDN). */
export function readAssetSources(): AssetSource[] {
  const sources: AssetSource[] = []
  const walk = (dir: string, prefix: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full, `${prefix}${entry.name}/`)
      else sources.push({ name: `${prefix}${entry.name}`, body: fs.readFileSync(full) })
    }
  }
  walk(publicDir, '')
  const require = createRequire(import.meta.url)
  const htmx = require.resolve('htmx.org/dist/htmx.min.js')
  sources.push({ name: 'vendor/htmx.min.js', body: fs.readFileSync(htmx) })
  return sources
}

const brotli = promisify(zlib.brotliCompress)
const gzip = promisify(zlib.gzip)

/** The file and its hash now; its compressed forms are made in zlib's thread pool (see assetsPlugin). */
function build(source: AssetSource): Asset {
  const type = TYPES[path.extname(source.name)] ?? 'application/octet-stream'
  const hash = crypto.createHash('sha256').update(source.body).digest('base64url').slice(0, 10)
  return { body: source.body, type, hash }
}

/** Maximum compression, done once: the results are cached by browsers for a year. */
async function compressAsset(asset: Asset): Promise<void> {
  if (!/^text\/|svg/.test(asset.type) || asset.body.length <= 512) return
  const [br, gz] = await Promise.all([
    brotli(asset.body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: asset.body.length } }),
    gzip(asset.body, { level: 9 }),
  ])
  asset.brotli = br
  asset.gzip = gz
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The content-hashed URL of a static file, e.g. asset('css/app.css') → /assets/AbC123/css/app.css */
    asset(name: string): string
  }
}

/**
 * Static files from memory: read and compressed once at start, served under a content-hashed URL with a
 * year-long immutable cache, so browsers never revalidate and a deploy changes every URL that changed.
 */
export const assetsPlugin = fp(
  async function assets(app: FastifyInstance, options: { sources?: AssetSource[] }) {
    const assets = new Map<string, Asset>()
    for (const source of options.sources ?? readAssetSources()) assets.set(source.name, build(source))
    // Brotli at quality 11 takes a few hundred milliseconds for htmx: done off the main thread while the rest
    // of the app is built, and awaited before the server listens, so every answer is compressed.
    const compressed = Promise.all([...assets.values()].map(compressAsset))
    compressed.catch(() => undefined)
    app.addHook('onReady', async () => {
      await compressed
    })

    app.decorate('asset', (name: string) => {
      const asset = assets.get(name)
      if (!asset) throw new Error(`Unknown asset: ${name}`)
      return `/assets/${asset.hash}/${name}`
    })

    const send = (request: FastifyRequest<{ Params: { hash: string; '*': string } }>, reply: FastifyReply) => {
      const asset = assets.get(request.params['*'])
      if (!asset) return reply.callNotFound()
      const current = request.params.hash === asset.hash
      reply
        .header('content-type', asset.type)
        .header('cache-control', current ? 'public, max-age=31536000, immutable' : 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('vary', 'accept-encoding')
      const accept = String(request.headers['accept-encoding'] ?? '')
      if (asset.brotli && /\bbr\b/.test(accept)) return reply.header('content-encoding', 'br').send(asset.brotli)
      if (asset.gzip && /\bgzip\b/.test(accept)) return reply.header('content-encoding', 'gzip').send(asset.gzip)
      return reply.send(asset.body)
    }
    app.get('/assets/:hash/*', { logLevel: 'warn' }, send)
    app.get('/favicon.ico', { logLevel: 'warn' }, (_request, reply) => reply.redirect(app.asset('img/favicon.svg'), 301))
  },
  { name: 'assets' },
)
