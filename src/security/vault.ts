import crypto from 'node:crypto'
import { deriveKey } from './keys.js'

export class VaultError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'VaultError'
  }
}

interface Key {
  id: string
  key: Buffer
}

function keyFrom(master: Buffer): Key {
  const key = deriveKey(master, 'vault-aes-256-gcm')
  // The id names the key without revealing it, so a value says which key sealed it (rotation).
  const id = crypto.createHash('sha256').update(key).digest('base64url').slice(0, 8)
  return { id, key }
}

/**
 * Secrets at rest (tokens, client secrets, SMTP passwords): AES-256-GCM, a fresh 96-bit IV per value, a
 * 16-byte tag enforced on decryption, and associated data binding the ciphertext to its row, so a value
 * copied into another row or user does not decrypt.
 * Format: `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url).
 */
export class Vault {
  private readonly current: Key
  private readonly keys: Map<string, Buffer>
  /**
   * Values opened lately, by associated data and sealed text. Pages check the organization's and the user's
   * tokens on every request, and an AES-GCM open (with its key schedule and base64 decoding) was a tenth of
   * such a page's CPU. A hit is only possible for the very same sealed text under the very same associated
   * data, which authenticated before with the same keys, so the answer cannot differ; failures are never
   * kept. Bounded, least recently used first out. The secrets are in this process's memory either way.
   */
  private readonly opened = new Map<string, string>()
  static readonly OPENED_MAX = 1000

  constructor(master: Buffer, previousMasters: Buffer[] = []) {
    this.current = keyFrom(master)
    this.keys = new Map([this.current, ...previousMasters.map(keyFrom)].map((k) => [k.id, k.key]))
  }

  seal(plaintext: string, associatedData: string): string {
    const iv = crypto.randomBytes(12)
    const cipher = crypto.createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: 16 })
    cipher.setAAD(Buffer.from(associatedData, 'utf8'))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return ['v1', this.current.id, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.')
  }

  open(sealed: string, associatedData: string): string {
    const cacheKey = `${associatedData}\u0000${sealed}`
    const hit = this.opened.get(cacheKey)
    if (hit !== undefined) {
      this.opened.delete(cacheKey)
      this.opened.set(cacheKey, hit)
      return hit
    }
    const plaintext = this.openUncached(sealed, associatedData)
    if (this.opened.size >= Vault.OPENED_MAX) this.opened.delete(this.opened.keys().next().value!)
    this.opened.set(cacheKey, plaintext)
    return plaintext
  }

  private openUncached(sealed: string, associatedData: string): string {
    const parts = sealed.split('.')
    if (parts.length !== 5 || parts[0] !== 'v1') throw new VaultError('not a sealed value')
    const [, keyId, ivText, ctText, tagText] = parts as [string, string, string, string, string]
    const key = this.keys.get(keyId)
    if (!key) throw new VaultError('sealed with a key this installation no longer has (was SECRET_KEY changed?)')
    const iv = Buffer.from(ivText, 'base64url')
    const tag = Buffer.from(tagText, 'base64url')
    // Node accepts truncated tags unless told the length; a 4-byte tag would be forgeable.
    if (iv.length !== 12 || tag.length !== 16) throw new VaultError('damaged sealed value')
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 })
      decipher.setAAD(Buffer.from(associatedData, 'utf8'))
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      throw new VaultError('sealed value failed authentication (damaged, or moved from another row)')
    }
  }

  /** How many opened values are kept (for tests of the bound). */
  get openedCount(): number {
    return this.opened.size
  }

  needsResealing(sealed: string): boolean {
    return sealed.split('.')[1] !== this.current.id
  }
}
