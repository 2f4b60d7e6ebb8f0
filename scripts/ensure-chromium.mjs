// Run first by `npm test`: the browser tests (test/e2e) drive the system Chromium through playwright-core.
// Silent when Chromium works; installs it when we can (root with apt-get); otherwise says how, and fails.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = '/usr/bin/chromium'
const HINT = 'Chromium is needed for the browser tests. Install it with: sudo apt-get install -y chromium'

const succeeds = (command, args, options = {}) => spawnSync(command, args, { stdio: 'ignore', ...options }).status === 0
const works = () => existsSync(CHROMIUM) && succeeds(CHROMIUM, ['--version'])

if (works()) process.exit(0)

if (process.getuid?.() === 0 && succeeds('apt-get', ['--version'])) {
  console.log('Chromium is missing: installing it with apt-get for the browser tests.')
  const policy = spawnSync('apt-cache', ['policy', 'chromium'], { encoding: 'utf8' }).stdout ?? ''
  const hasCandidate = /Candidate:\s*(?!\(none\))\S/.test(policy)
  if (!hasCandidate) succeeds('apt-get', ['update'], { stdio: 'inherit' })
  succeeds('apt-get', ['install', '-y', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (works()) process.exit(0)
}

console.error(HINT)
process.exit(1)
