import crypto from 'node:crypto'
import { promisify } from 'node:util'

const scrypt = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>

export interface ScryptParams {
  N: number
  r: number
  p: number
}

/**
 * OWASP's scrypt settings: N=2^15, r=8, p=3 is one of its equivalent minimums (32 MiB per hash), chosen over
 * N=2^17/p=1 (128 MiB) so concurrent sign-ins stay within a small server's memory.
 */
export const CURRENT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 3 }
const KEY_LENGTH = 32
export const MIN_PASSWORD_LENGTH = 10
export const MAX_PASSWORD_LENGTH = 256

function maxmem({ N, r, p }: ScryptParams): number {
  // Node's default maxmem (32 MiB) is below 128*N*r for OWASP's parameters; leave headroom.
  return 128 * N * r * Math.max(p, 1) + 16 * 1024 * 1024
}

async function derive(password: string, salt: Buffer, params: ScryptParams, keylen = KEY_LENGTH): Promise<Buffer> {
  return scrypt(password.normalize('NFKC'), salt, keylen, { ...params, maxmem: maxmem(params) })
}

/** A self-describing string: `scrypt$N=32768,r=8,p=3$<salt b64>$<hash b64>`, so parameters can be raised later. */
export async function hashPassword(password: string, params: ScryptParams = CURRENT_PARAMS): Promise<string> {
  const salt = crypto.randomBytes(16)
  const hash = await derive(password, salt, params)
  return `scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

interface Parsed {
  params: ScryptParams
  salt: Buffer
  hash: Buffer
}

function parse(stored: string): Parsed | undefined {
  const match = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored)
  if (!match) return undefined
  const params = { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) }
  if (params.N > 2 ** 20 || params.r > 32 || params.p > 16) return undefined
  return { params, salt: Buffer.from(match[4]!, 'base64'), hash: Buffer.from(match[5]!, 'base64') }
}

/** Verifies in constant time; `needsRehash` says the stored hash uses weaker parameters than today's. */
export async function verifyPassword(password: string, stored: string): Promise<{ ok: boolean; needsRehash: boolean }> {
  const parsed = parse(stored)
  if (!parsed) return { ok: false, needsRehash: false }
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length)
  const ok = candidate.length === parsed.hash.length && crypto.timingSafeEqual(candidate, parsed.hash)
  const { N, r, p } = parsed.params
  return { ok, needsRehash: ok && (N < CURRENT_PARAMS.N || r < CURRENT_PARAMS.r || p < CURRENT_PARAMS.p) }
}

let dummy: Promise<string> | undefined
/** Verifying against this for unknown emails makes "no such user" take as long as "wrong password". */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomBytes(16).toString('hex'))
  return dummy
}

export function passwordProblem(password: string): 'too_short' | 'too_long' | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return 'too_short'
  if (password.length > MAX_PASSWORD_LENGTH) return 'too_long'
  return undefined
}
