/**
 * Helpers for test/stress/crash.test.ts: the real server as a child process, a browser stand-in over real
 * HTTP (cookies and CSRF token kept), and an SMTP proxy in front of test/fakes/smtp.ts that can hold the
 * server's answer at the two moments that matter for a crash: right after the client sent DATA (the message
 * has not left the app yet) and right after the final "." (the server has the message, the app does not
 * know it yet).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Waits until `url` answers 200. */
export async function waitForOk(url: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) })
      await res.arrayBuffer()
      if (res.ok) return
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
    await sleep(100)
  }
}

export interface ServerProcess {
  child: ChildProcess
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The last lines of its output (for failure messages). */
  output(): string
}

/** `node --import tsx src/server.ts`, like test/server.test.ts, on a given data directory and port. */
export function startServer(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    if (lines.length > 200) lines.splice(0, lines.length - 200)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  return { child, exited, output: () => lines.join('\n') }
}

const CSRF_IN_PAGE = /name="_csrf" value="([^"]+)"|"X-CSRF-Token":"([^"]+)"/

export interface HttpAnswer {
  status: number
  location: string | null
  body: string
}

/** A browser stand-in over real HTTP: keeps cookies and the CSRF token of the last page it saw. */
export class HttpSession {
  cookies = new Map<string, string>()
  csrf = ''

  constructor(readonly base: string) {}

  /** Resolves only once the whole answer has arrived; rejects when the connection breaks. */
  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<HttpAnswer> {
    const headers: Record<string, string> = {}
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    let body: string | undefined
    if (form) {
      const params = new URLSearchParams()
      if (!('_csrf' in form)) params.append('_csrf', this.csrf)
      for (const [key, value] of Object.entries(form)) params.append(key, value)
      body = params.toString()
      headers['content-type'] = 'application/x-www-form-urlencoded'
    }
    const res = await fetch(this.base + url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(60_000) })
    const text = await res.text()
    for (const set of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = set.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = value === '' || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) <= Date.now()))
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const match = CSRF_IN_PAGE.exec(text)
    const token = match?.[1] ?? match?.[2]
    if (token) this.csrf = token
    return { status: res.status, location: res.headers.get('location'), body: text }
  }

  get(url: string): Promise<HttpAnswer> {
    return this.request('GET', url)
  }

  post(url: string, form: Record<string, string>): Promise<HttpAnswer> {
    return this.request('POST', url, form)
  }

  /** Signs in through the real form, then loads a page for the signed-in session's CSRF token. */
  async signIn(email: string, password: string): Promise<void> {
    await this.get('/sign-in')
    const res = await this.post('/sign-in', { email, password })
    if (res.status !== 303) throw new Error(`sign-in of ${email} answered ${res.status}`)
    const page = await this.get('/follow-ups/new')
    if (page.status !== 200) throw new Error(`after sign-in of ${email}: /follow-ups/new answered ${page.status}`)
  }
}

export type HoldPoint = 'data' | 'dot'

export interface Held {
  point: HoldPoint
  /** RCPT TO of the message. */
  recipients: string[]
  /** Message-ID header of the message (only known once its content went through: 'dot'). */
  messageId: string | null
}

/**
 * A TCP proxy in front of an SMTP server that watches the client's side of the conversation and, when asked,
 * holds back the server's next answer for `holdMs`:
 * - 'data': the answer after the client sent DATA (the message content has not been sent yet);
 * - 'dot': the answer after the client sent the final "." (the server has already taken the message).
 * Everything else passes through unchanged and in order.
 */
export class SmtpProxy {
  hold = new Set<HoldPoint>()
  holdMs = 0
  /** Moments at a held point to let pass before holding (so some mail goes through first). */
  skip = 0
  connections = 0
  /** Messages whose final "." went through the proxy. */
  messages = 0
  /** Answers being held right now. */
  readonly active = new Set<Held>()
  private waiters: { point: HoldPoint; resolve: (held: Held) => void }[] = []
  private server: net.Server
  private sockets = new Set<net.Socket>()
  port = 0

  constructor(readonly targetPort: number) {
    this.server = net.createServer((client) => this.handle(client))
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as net.AddressInfo).port
    return this
  }

  /** Resolves as soon as an answer at `point` is being held (at once if one is held now). */
  waitForHold(point: HoldPoint, timeoutMs: number): Promise<Held> {
    const now = [...this.active].find((h) => h.point === point)
    if (now) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`no SMTP answer was held at '${point}' within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = (held: Held) => {
        clearTimeout(timer)
        resolve(held)
      }
      this.waiters.push({ point, resolve: done })
    })
  }

  private handle(client: net.Socket): void {
    this.connections++
    const upstream = net.connect(this.targetPort, '127.0.0.1')
    this.sockets.add(client).add(upstream)
    let mode: 'command' | 'data' = 'command'
    let commandBuffer = ''
    let dataHead = ''
    let tail = ''
    let recipients: string[] = []
    let holdNext: HoldPoint | null = null
    let heldInfo: Held | null = null
    let holding: Held | null = null
    let chain = Promise.resolve()

    const closeBoth = () => {
      // An answer held for a connection that is gone is no longer a moment anyone is in.
      if (holding) this.active.delete(holding)
      client.destroy()
      upstream.destroy()
      this.sockets.delete(client)
      this.sockets.delete(upstream)
    }
    client.on('error', closeBoth)
    upstream.on('error', closeBoth)
    client.on('close', closeBoth)
    upstream.on('close', () => void chain.then(closeBoth))

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk)
      let text = chunk.toString('latin1')
      while (text.length > 0) {
        if (mode === 'command') {
          commandBuffer += text
          text = ''
          let eol: number
          while ((eol = commandBuffer.indexOf('\r\n')) >= 0) {
            const line = commandBuffer.slice(0, eol)
            commandBuffer = commandBuffer.slice(eol + 2)
            const rcpt = /^RCPT TO:\s*<([^>]*)>/i.exec(line)
            if (rcpt) recipients.push(rcpt[1]!.toLowerCase())
            if (/^MAIL FROM:/i.test(line)) recipients = []
            if (/^DATA$/i.test(line)) {
              mode = 'data'
              dataHead = ''
              tail = ''
              if (this.hold.has('data') && this.skip-- <= 0) {
                holdNext = 'data'
                heldInfo = { point: 'data', recipients: [...recipients], messageId: null }
              }
              text = commandBuffer
              commandBuffer = ''
              break
            }
          }
        } else {
          const seen = tail + text
          const end = seen.indexOf('\r\n.\r\n')
          if (dataHead.length < 16_384) dataHead += text
          if (end < 0) {
            tail = seen.slice(-4)
            text = ''
            continue
          }
          mode = 'command'
          this.messages++
          const messageId = /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(dataHead)?.[1] ?? null
          if (this.hold.has('dot') && this.skip-- <= 0) {
            holdNext = 'dot'
            heldInfo = { point: 'dot', recipients: [...recipients], messageId }
          }
          text = seen.slice(end + 5)
        }
      }
    })

    upstream.on('data', (chunk: Buffer) => {
      if (holdNext && heldInfo) {
        const held = heldInfo
        holdNext = null
        heldInfo = null
        const ms = this.holdMs
        holding = held
        this.active.add(held)
        for (const w of this.waiters.filter((w) => w.point === held.point)) {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(held)
        }
        chain = chain.then(async () => {
          await sleep(ms)
          this.active.delete(held)
          holding = null
          if (!client.destroyed) client.write(chunk)
        })
      } else {
        chain = chain.then(() => {
          if (!client.destroyed) client.write(chunk)
        })
      }
    })
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** A small seeded random generator (mulberry32), so a failing run can be repeated with its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
