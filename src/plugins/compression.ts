import zlib from 'node:zlib'

/**
 * Compression of rendered pages (static files are compressed once at start, at maximum, in assets.ts).
 * Measured on this app's pages (bench/): gzip at level 1 turns the 22 KB follow-ups list into 3 KB in about
 * 35 µs, brotli at quality 4 into 2.5 KB in about 95 µs; a page below a few KB goes out in the first round
 * trip either way (the TCP initial window is about 14 KB), so compressing it would only cost CPU on every
 * request. Synchronous on purpose: for a few KB this is cheaper than the hand-off to zlib's thread pool that
 * a stream (what @fastify/compress does) costs.
 */
export type Encoding = 'br' | 'gzip'

/** Pages smaller than this are sent as they are. */
export const MIN_COMPRESS_BYTES = 4096

const GZIP_LEVEL = 1
const BROTLI_QUALITY = 1

/** Browsers send the same few Accept-Encoding values over and over: remember the answers. */
const negotiated = new Map<string, Encoding | null>()

function negotiate(header: string): Encoding | null {
  const q: Record<string, number> = {}
  for (const part of header.toLowerCase().split(',')) {
    const [coding = '', ...params] = part.trim().split(';')
    const weight = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    q[coding.trim()] = weight ? Number(weight.slice(2)) || 0 : 1
  }
  const weightOf = (coding: Encoding) => q[coding] ?? q['*'] ?? 0
  const gzip = weightOf('gzip')
  const br = weightOf('br')
  // gzip on a tie (browsers send no weights): at these sizes it is the cheapest per byte saved.
  if (gzip > 0 && gzip >= br) return 'gzip'
  if (br > 0) return 'br'
  return null
}

/** The encoding to answer with for this Accept-Encoding header (RFC 9110 12.5.3), or null for none. */
export function preferredEncoding(header: string | string[] | undefined): Encoding | null {
  if (!header) return null
  const value = Array.isArray(header) ? header.join(',') : header
  let encoding = negotiated.get(value)
  if (encoding === undefined) {
    encoding = negotiate(value)
    if (negotiated.size >= 64) negotiated.clear()
    negotiated.set(value, encoding)
  }
  return encoding
}

export function compress(body: string | Buffer, encoding: Encoding): Buffer {
  if (encoding === 'gzip') return zlib.gzipSync(body, { level: GZIP_LEVEL })
  return zlib.brotliCompressSync(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 18,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(body),
    },
  })
}
