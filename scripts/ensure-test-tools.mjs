// Run first by `npm test`: the browser tests (test/e2e) drive the system Chromium through playwright-core,
// test/stress/scanners.test.ts runs the offline scanners wapiti and sqlmap, and the invitation tests read every
// calendar file with python's icalendar and vobject (test/helpers/ics_check.py). All of them come from Debian.
// Silent when every tool works; installs the missing ones when we can (root with apt-get); otherwise says how,
// and fails.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Debian package → the program it installs, and what needs it. */
const TOOLS = [
  { pkg: 'chromium', bin: '/usr/bin/chromium', for: 'the browser tests' },
  { pkg: 'wapiti', bin: '/usr/bin/wapiti', for: 'the scanner tests' },
  { pkg: 'sqlmap', bin: '/usr/bin/sqlmap', for: 'the scanner tests' },
  { pkg: 'python3-icalendar', bin: '/usr/bin/python3', args: ['-c', 'import icalendar'], for: 'the invitation tests' },
  { pkg: 'python3-vobject', bin: '/usr/bin/python3', args: ['-c', 'import vobject'], for: 'the invitation tests' },
]

const succeeds = (command, args, options = {}) => spawnSync(command, args, { stdio: 'ignore', ...options }).status === 0
const works = (tool) => existsSync(tool.bin) && succeeds(tool.bin, tool.args ?? ['--version'])
const missing = () => TOOLS.filter((tool) => !works(tool))

let todo = missing()
if (todo.length === 0) process.exit(0)

if (process.getuid?.() === 0 && succeeds('apt-get', ['--version'])) {
  const names = todo.map((tool) => tool.pkg)
  console.log(`Missing ${names.join(', ')}: installing with apt-get (${[...new Set(todo.map((tool) => tool.for))].join(', ')}).`)
  const hasCandidate = (pkg) => /Candidate:\s*(?!\(none\))\S/.test(spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' }).stdout ?? '')
  if (!names.every(hasCandidate)) succeeds('apt-get', ['update'], { stdio: 'inherit' })
  succeeds('apt-get', ['install', '-y', ...names], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  todo = missing()
  if (todo.length === 0) process.exit(0)
}

for (const tool of todo) console.error(`${tool.pkg} is needed for ${tool.for}.`)
console.error(`Install ${todo.length === 1 ? 'it' : 'them'} with: sudo apt-get install -y ${todo.map((tool) => tool.pkg).join(' ')}`)
process.exit(1)
