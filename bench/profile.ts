/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where each benchmark run spent the server's CPU: by
 * component (our code, each package, Node internals, GC, idle) and the functions with the most self time
 * and the most total time. Windows are CLOCK_MONOTONIC microseconds, the clock of both V8's profiler and
 * process.hrtime, so the orchestrator's run boundaries slice the server's profile.
 * Standalone: `npx tsx bench/profile.ts <file.cpuprofile>` (the whole profile, one window).
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface Window {
  name: string
  startUs: number
  endUs: number
}

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

function component(frame: CallFrame, root: string): string {
  const { url, functionName } = frame
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC'
    if (functionName === '(idle)') return 'idle'
    if (functionName === '(program)') return 'V8/native (program)'
    return `native: ${functionName || '(anonymous)'}`
  }
  if (url.startsWith('node:')) return 'Node internals'
  const file = url.startsWith('file://') ? fileURLToPath(url) : url
  const modules = file.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = file.slice(modules + '/node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  return `ours: ${path.relative(root, file).replace(/^build\//, '')}`
}

function label(frame: CallFrame, root: string): string {
  const where = frame.url ? `${component(frame, root).replace(/^ours: /, '')}:${frame.lineNumber + 1}` : ''
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`
}

const pct = (n: number, total: number) => `${((n / total) * 100).toFixed(1).padStart(5)}%`

export function summarizeProfile(file: string, windows: Window[], root: string, top = 12): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

  // Sample i's time: startTime plus the deltas so far.
  const times: number[] = []
  let t = profile.startTime
  for (const delta of profile.timeDeltas) times.push((t += delta))

  const anyInside = windows.some((w) => times.some((time) => time >= w.startUs && time < w.endUs))
  const slices = anyInside ? windows : [{ name: 'whole profile', startUs: profile.startTime, endUs: profile.endTime + 1 }]
  const out: string[] = [`CPU profile ${path.basename(file)}${anyInside ? '' : ' (run windows not found in it: whole profile)'}`]

  for (const w of slices) {
    const self = new Map<string, number>()
    const total = new Map<string, number>()
    const components = new Map<string, number>()
    let samples = 0
    let busy = 0
    profile.samples.forEach((id, i) => {
      const time = times[i]!
      if (time < w.startUs || time >= w.endUs) return
      samples++
      const node = byId.get(id)!
      const c = component(node.callFrame, root)
      components.set(c, (components.get(c) ?? 0) + 1)
      if (c === 'idle') return
      busy++
      const own = label(node.callFrame, root)
      self.set(own, (self.get(own) ?? 0) + 1)
      // Total time: every distinct frame on the stack once.
      const seen = new Set<string>()
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame
        if (!frame.url && frame.functionName === '(root)') continue
        const name = label(frame, root)
        if (seen.has(name)) continue
        seen.add(name)
        total.set(name, (total.get(name) ?? 0) + 1)
      }
    })
    if (samples === 0) continue
    out.push('', `== ${w.name}: ${samples} samples, ${pct(samples - busy, samples).trim()} idle`)
    out.push('  by component (share of busy samples):')
    for (const [c, n] of [...components].filter(([c]) => c !== 'idle').sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`   ${pct(n, busy)}  ${c}`)
    out.push('  most self time:')
    for (const [f, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`   ${pct(n, busy)}  ${f}`)
    out.push('  most total time, our code (src/):')
    for (const [f, n] of [...total].filter(([f]) => /\bsrc\//.test(f)).sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`   ${pct(n, busy)}  ${f}`)
  }
  return `${out.join('\n')}\n`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2]
  if (!file) throw new Error('usage: tsx bench/profile.ts <file.cpuprofile>')
  process.stdout.write(summarizeProfile(file, [], path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'), 25))
}
