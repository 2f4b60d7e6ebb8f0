import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Makes `dir` a private directory of ours (created 0700; refused when it is a symlink or belongs to someone
 * else, tightened when others may write to it), so no other user can swap the library we are about to load.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = fs.lstatSync(dir)
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory`)
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid) throw new Error(`${dir} belongs to another user (uid ${stat.uid})`)
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700)
}

/**
 * Writes the native addon into `dir` (under a name derived from its content, atomically, once) and loads it
 * with process.dlopen: the single executable's require() loads built-in modules only. The directory must be
 * on a filesystem that allows executable mappings (a `noexec` /tmp does not).
 */
export function loadNativeAddon(body: Uint8Array, dir: string, name = 'better_sqlite3'): object {
  const hash = crypto.createHash('sha256').update(body).digest('hex').slice(0, 16)
  ensurePrivateDir(dir)
  const file = path.join(dir, `${name}-${hash}.node`)
  let current = false
  try {
    current = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16) === hash
  } catch {
    // not extracted yet
  }
  if (!current) {
    const temp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(temp, body, { mode: 0o700 })
    fs.renameSync(temp, file)
  }
  removeStale(dir, name, file)
  const module = { exports: {} as object }
  try {
    process.dlopen(module, file)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const hint = /map segment|operation not permitted|permission denied/i.test(message)
      ? ' (is the directory on a noexec mount? Set NATIVE_DIR to a private directory that allows executables)'
      : ''
    throw new Error(`Cannot load the SQLite addon from ${file}: ${message}${hint}`)
  }
  return module.exports
}

/** Addons of earlier versions, left by upgrades; a day's grace for a process of the old version still starting. */
function removeStale(dir: string, name: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000
  for (const entry of fs.readdirSync(dir)) {
    const full = path.join(dir, entry)
    if (full === keep || !entry.startsWith(`${name}-`) || !/\.node(\.\d+\.tmp)?$/.test(entry)) continue
    try {
      if (fs.statSync(full).mtimeMs < dayAgo) fs.rmSync(full, { force: true })
    } catch {
      // raced with another process: fine
    }
  }
}
