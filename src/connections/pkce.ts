import crypto from 'node:crypto'

/** RFC 7636: a 43-character verifier from 32 random bytes, and its S256 challenge. */
export function newPkce(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url')
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') }
}

export function newState(): string {
  return crypto.randomBytes(32).toString('base64url')
}
