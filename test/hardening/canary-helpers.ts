/**
 * Helpers for the hardening tests: a Client that records every response it gets, the encoded forms a secret
 * could take on its way out (raw, URL-encoded, base64 and base64url at every byte alignment), a search for
 * them, and byte-level tampering with sealed values (`v1.<key id>.<iv>.<ciphertext>.<tag>`).
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { Client } from '../helpers/app.js'

export interface RecordedResponse {
  method: string
  url: string
  status: number
  headers: Record<string, unknown>
  body: string
}

/** A Client that keeps every response (status, headers, body) in `log`, which several clients may share. */
export class RecordingClient extends Client {
  constructor(
    app: FastifyInstance,
    readonly log: RecordedResponse[],
  ) {
    super(app)
  }

  override async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await super.request(options)
    this.log.push({ method: String(options.method ?? 'GET'), url: String(options.url ?? ''), status: res.statusCode, headers: { ...res.headers }, body: res.body })
    return res
  }
}

export interface Needle {
  /** What the secret is (for the message), never the secret itself. */
  label: string
  /** How it is encoded: raw, url, base64@1, base64url@2 ... */
  form: string
  value: string
}

/**
 * The substrings any encoding of `secret` must contain wherever it appears. Base64 depends on the byte
 * offset of the secret in the encoded stream, so each of the three alignments gets its own needle: the
 * characters that depend only on the secret's own bytes.
 */
export function encodedForms(label: string, secret: string): Needle[] {
  const bytes = Buffer.from(secret, 'utf8')
  const needles: Needle[] = [{ label, form: 'raw', value: secret }]
  const url = encodeURIComponent(secret)
  if (url !== secret) needles.push({ label, form: 'url', value: url })
  const form = new URLSearchParams({ x: secret }).toString().slice(2)
  if (form !== secret && form !== url) needles.push({ label, form: 'form-urlencoded', value: form })
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes])
    const whole = Math.floor(padded.length / 3) * 4
    const start = offset === 0 ? 0 : 4
    const b64 = padded.toString('base64').slice(start, whole)
    const b64url = padded.toString('base64url').slice(start, whole)
    needles.push({ label, form: `base64@${offset}`, value: b64 })
    if (b64url !== b64) needles.push({ label, form: `base64url@${offset}`, value: b64url })
  }
  return needles.filter((n) => n.value.length >= 12)
}

export interface Haystack {
  where: string
  text: string
}

export interface Leak {
  label: string
  form: string
  where: string
  context: string
}

/** Every needle found in every haystack, with a little context (the secret itself replaced by <SECRET>). */
export function findLeaks(haystacks: Haystack[], needles: Needle[]): Leak[] {
  const leaks: Leak[] = []
  for (const h of haystacks) {
    for (const n of needles) {
      const at = h.text.indexOf(n.value)
      if (at < 0) continue
      const context = (h.text.slice(Math.max(0, at - 80), at) + '<SECRET>' + h.text.slice(at + n.value.length, at + n.value.length + 80)).replace(/[^\x20-\x7e]/g, '.')
      leaks.push({ label: n.label, form: n.form, where: h.where, context })
    }
  }
  return leaks
}

/** Bytes (a database file) as a string in which ASCII secrets can be searched. */
export function bytesAsText(buf: Buffer): string {
  return buf.toString('latin1')
}

// ---------------------------------------------------------------------------------------------------
// sealed values

export interface SealedParts {
  keyId: string
  iv: Buffer
  ciphertext: Buffer
  tag: Buffer
}

export function parseSealed(sealed: string): SealedParts {
  const parts = sealed.split('.')
  if (parts.length !== 5 || parts[0] !== 'v1') throw new Error(`not a sealed value: ${sealed.slice(0, 20)}…`)
  const [, keyId, iv, ct, tag] = parts as [string, string, string, string, string]
  return { keyId, iv: Buffer.from(iv, 'base64url'), ciphertext: Buffer.from(ct, 'base64url'), tag: Buffer.from(tag, 'base64url') }
}

export function formatSealed(p: SealedParts): string {
  return ['v1', p.keyId, p.iv.toString('base64url'), p.ciphertext.toString('base64url'), p.tag.toString('base64url')].join('.')
}

/** The same sealed value with one bit of one ciphertext byte flipped (default: the middle byte). */
export function flipCiphertextByte(sealed: string, index?: number): string {
  const p = parseSealed(sealed)
  const ciphertext = Buffer.from(p.ciphertext)
  const i = index ?? Math.floor(ciphertext.length / 2)
  ciphertext[i] = ciphertext[i]! ^ 0x01
  return formatSealed({ ...p, ciphertext })
}

/** The same sealed value with its tag cut to its own first `bytes` bytes (a truncated, still "correct" tag). */
export function truncateTag(sealed: string, bytes = 4): string {
  const p = parseSealed(sealed)
  return formatSealed({ ...p, tag: p.tag.subarray(0, bytes) })
}
