/**
 * Import first. Password hashing at production cost (scrypt N=2^15, about a second here, and sign-in hashes
 * on every attempt, failed ones included) would spend these tests' whole budget on key stretching, which they
 * do not test. In this process only, scrypt runs with N=2^10; everything else (stored format, parameters in
 * the hash string, verification, rehash decisions) stays exactly as in production.
 */
import crypto from 'node:crypto'

type ScryptCallback = (error: Error | null, key: Buffer) => void
const original = crypto.scrypt
const cheap = (password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, options: crypto.ScryptOptions | ScryptCallback, callback?: ScryptCallback) => {
  if (typeof options === 'function') return original(password, salt, keylen, { N: 1024 }, options)
  return original(password, salt, keylen, { ...options, N: 1024, cost: undefined, maxmem: 64 * 1024 * 1024 }, callback!)
}
;(crypto as unknown as { scrypt: typeof cheap }).scrypt = cheap
