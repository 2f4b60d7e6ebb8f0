import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export const KEY_FILE_NAME = 'secret.key'

/**
 * The installation's master secret: SECRET_KEY when given, else a random key created once in the data
 * directory with mode 0600 (created exclusively, so two processes starting together agree on one key).
 */
export function loadMasterSecret(dataDir: string, secretKey: string | undefined): Buffer {
  if (secretKey) return Buffer.from(secretKey, 'utf8')
  const file = path.join(dataDir, KEY_FILE_NAME)
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    try {
      fs.writeSync(fd, crypto.randomBytes(48).toString('base64') + '\n')
    } finally {
      fs.closeSync(fd)
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const mode = fs.statSync(file).mode & 0o777
  if (mode & 0o077) fs.chmodSync(file, 0o600)
  const content = fs.readFileSync(file, 'utf8').trim()
  if (content.length < 32) throw new Error(`The key file ${file} is empty or damaged; restore it from a backup`)
  return Buffer.from(content, 'utf8')
}

/** Independent keys for independent purposes, so no key is ever used for two things. */
export function deriveKey(master: Buffer, purpose: string, length = 32): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', master, Buffer.alloc(0), `video-meetings:${purpose}`, length))
}
