import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Set to true by the single-executable build (esbuild `define`); undefined when running from a checkout. */
declare const __VIDEO_MEETINGS_EMBEDDED__: boolean | undefined

/**
 * True inside the single executable: views, public files and migrations are embedded assets (src/sea/),
 * not files, and the paths below are only names for them.
 */
export const embedded = typeof __VIDEO_MEETINGS_EMBEDDED__ !== 'undefined' && __VIDEO_MEETINGS_EMBEDDED__ === true

/** The root the embedded files are named under (no such folder exists on disk). */
export const EMBEDDED_ROOT = '/video-meetings.embedded'

/** The folder holding package.json, views/, public/ and db/, whether we run from src/ (tsx) or build/src/. */
function findAppRoot(): string {
  if (embedded) return EMBEDDED_ROOT
  if (process.env.VIDEO_MEETINGS_ROOT) return process.env.VIDEO_MEETINGS_ROOT
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'views'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('Cannot find the application folder (package.json with views/)')
    dir = parent
  }
}

export const appRoot = findAppRoot()
export const viewsDir = path.join(appRoot, 'views')
export const publicDir = path.join(appRoot, 'public')
export const migrationsDir = path.join(appRoot, 'db', 'migrations')
