/** Hashes, random tokens and constant-time comparison for the Sandbox's codes, tokens and client secret. */
import crypto from 'node:crypto'

export const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex')
export const randomToken = (bytes = 32) => crypto.randomBytes(bytes).toString('base64url')

/** Constant-time equality of two strings of any length (compared as digests). */
export function sameSecret(a: string, b: string): boolean {
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(a).digest(), crypto.createHash('sha256').update(b).digest())
}

export const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/

export function pkceMatches(verifier: string, challenge: string): boolean {
  return sameSecret(crypto.createHash('sha256').update(verifier).digest('base64url'), challenge)
}
