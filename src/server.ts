/**
 * The entry of `npm start` (`node build/server.js [--config <file>]`): the CLI's `serve` command. Only an entry:
 * the listening and shutting down is src/serve.ts, which the CLI imports, so there is no import circle.
 */
import { embedded } from './paths.js'

// Decided by the script's name, not import.meta.url: in a bundle every module shares the bundle's URL.
const isEntryPoint = !embedded && (process.argv[1]?.endsWith('/server.js') || process.argv[1]?.endsWith('/server.ts'))
if (isEntryPoint) {
  void import('./cli.js').then(({ main }) => main(['serve', ...process.argv.slice(2)]))
}
