// `npm run build`: bundles the server and the CLI from src/ into build/ with esbuild (ES modules, for the
// Node that runs it). One bundle loads in a fraction of the time Node takes to resolve and read the few
// hundred files of src/ and node_modules one by one (measured: start-up to ready about 220 ms sooner), and
// it is the same code the single executable runs (scripts/build-binary.ts bundles the same way).
// Type checking is `npm run typecheck` (part of `npm test`); esbuild only strips the types.
// better-sqlite3 stays outside: it loads its native addon relative to its own files.
import { rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const outdir = path.join(root, 'build')
rmSync(outdir, { recursive: true, force: true })

await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/server.ts', 'src/cli.ts'],
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'bundle',
  external: ['better-sqlite3'],
  // CommonJS packages inside an ES module bundle call require(); give them one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  // For debugging: `node --enable-source-maps build/server.js` maps stacks to src/. Not on by default: it
  // costs about 75 ms of start-up, and the unminified bundle keeps names and marks each file's start.
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
})
