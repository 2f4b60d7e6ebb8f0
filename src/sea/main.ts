/**
 * The entry of the single executable (dist/video-meetings, built by scripts/build-binary.ts): the same CLI
 * as `npm run cli`, with views, public files, migrations and the SQLite addon read from the embedded assets
 * instead of the checkout and node_modules.
 */
import path from 'node:path'
import sea from 'node:sea'
import { main, type CliRuntime } from '../cli.js'
import { useNativeBinding, type Migration } from '../db/database.js'
import { viewsDir } from '../paths.js'
import type { AssetSource } from '../plugins/assets.js'
import { ASSET_KEYS } from './keys.js'
import { loadNativeAddon } from './native-addon.js'

/** Set by the build (esbuild `define`) from package.json. */
declare const __VIDEO_MEETINGS_VERSION__: string

// Node 24's node:sea has getAssetKeys; the @types/node of the development Node (20) does not know it yet.
const assets = sea as typeof sea & { getAssetKeys(): string[] }

function readTemplate(file: string): string {
  const relative = path.relative(viewsDir, file).split(path.sep).join('/')
  try {
    return assets.getAsset(ASSET_KEYS.view(relative), 'utf8')
  } catch {
    throw Object.assign(new Error(`Template not found: ${relative}`), { code: 'ENOENT' })
  }
}

let migrations: Migration[] | undefined

export const embeddedRuntime: CliRuntime = {
  version: __VIDEO_MEETINGS_VERSION__,
  migrations: () => (migrations ??= JSON.parse(assets.getAsset(ASSET_KEYS.migrations, 'utf8')) as Migration[]),
  appDependencies() {
    const sources: AssetSource[] = assets
      .getAssetKeys()
      .filter((key) => key.startsWith(ASSET_KEYS.publicPrefix))
      .map((key) => ({ name: key.slice(ASSET_KEYS.publicPrefix.length), body: Buffer.from(assets.getAsset(key)) }))
    return { assets: sources, migrationsSql: this.migrations(), readTemplate }
  },
  prepare(config) {
    // Inside the data directory by default: it is ours and writable, and /tmp is often mounted noexec.
    const dir = process.env.NATIVE_DIR?.trim() || path.join(config.dataDir, '.native')
    useNativeBinding(loadNativeAddon(new Uint8Array(assets.getRawAsset(ASSET_KEYS.sqliteAddon) as ArrayBuffer), dir))
  },
}

if (!sea.isSea()) {
  process.stderr.write('This bundle runs inside the single executable only (npm run build:binary).\n')
  process.exit(1)
}
void main(process.argv.slice(2), embeddedRuntime)
