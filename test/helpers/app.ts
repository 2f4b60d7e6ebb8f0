import net from 'node:net'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type AppDependencies } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

/** A port nobody listens on right now (the OS picks it); a test that listens on it retries if it was taken meanwhile. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export function tempDir(t: Test, prefix = 'vm-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function testConfig(t: Test, env: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: tempDir(t), LOG_LEVEL: 'silent', SANDBOX: '1', ...env })
}

/** A fresh app on a fresh data directory, closed when the test ends. */
export async function testApp(t: Test, env: Record<string, string> = {}, deps: AppDependencies = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(t, env), deps)
  t.teardown(() => app.close())
  return app
}

const CSRF_IN_PAGE = /name="_csrf" value="([^"]+)"|"X-CSRF-Token":"([^"]+)"/

/**
 * A browser stand-in for app.inject: keeps cookies like a browser would (path and expiry ignored: every test
 * cookie is path=/), and knows the CSRF token of the last page it saw.
 */
export class Client {
  cookies = new Map<string, string>()
  csrf = ''

  constructor(readonly app: FastifyInstance) {}

  async request(options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await this.app.inject({ ...options, headers: { ...(cookie && { cookie }), ...options.headers } })
    for (const set of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const expired = (set.expires && set.expires.getTime() <= Date.now()) || set.maxAge === 0 || set.value === ''
      if (expired) this.cookies.delete(set.name)
      else this.cookies.set(set.name, set.value)
    }
    const match = CSRF_IN_PAGE.exec(res.body)
    const token = match?.[1] ?? match?.[2]
    if (token) this.csrf = token
    return res
  }

  get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.request({ method: 'GET', url, headers })
  }

  /** Posts a form with the current CSRF token (pass `_csrf: ''` or another value to test rejection). */
  post(url: string, form: Record<string, string | string[]> = {}, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams()
    if (!('_csrf' in form)) body.append('_csrf', this.csrf)
    for (const [key, value] of Object.entries(form)) for (const v of [value].flat()) body.append(key, v)
    return this.request({
      method: 'POST',
      url,
      payload: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    })
  }

  /** GET a page first (for its token), then post its form. */
  async submit(pageUrl: string, action: string, form: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    await this.get(pageUrl)
    return this.post(action, form)
  }
}

/**
 * The follow-up form as the browser posts it: a one-hour follow-up on 4 March 2030, 10:00 in Amsterdam,
 * with two attendees and a video meeting. Tests override what they are about.
 */
const FOLLOW_UP_FORM = {
  title: 'Quarterly review',
  typeId: '',
  start: '2030-03-04T10:00',
  end: '2030-03-04T11:00',
  duration: '',
  timeZone: 'Europe/Amsterdam',
  location: '',
  description: 'Numbers and plans',
  attendees: 'ext@example.org\ncolleague@example.com',
  video: 'true',
}
export function followUpForm<T extends Record<string, string> = Record<never, string>>(overrides?: T): Omit<typeof FOLLOW_UP_FORM, keyof T> & T {
  const form: Omit<typeof FOLLOW_UP_FORM, keyof T> & T = { ...FOLLOW_UP_FORM, ...(overrides as T) }
  return form
}

export const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'correct horse battery', language: 'en', timeZone: 'Europe/Amsterdam' }

/** Runs setup and returns a client signed in as the first administrator. */
export async function setUpAdmin(app: FastifyInstance): Promise<Client> {
  const client = new Client(app)
  const res = await client.submit('/setup', '/setup', ADMIN)
  if (res.statusCode !== 303) throw new Error(`setup failed: ${res.statusCode} ${res.body.slice(0, 500)}`)
  return client
}

/** Creates a user through the admin form and returns a client signed in as them. */
export async function addUser(
  app: FastifyInstance,
  admin: Client,
  user: { name: string; email: string; password?: string; role?: 'user' | 'admin'; language?: 'en' | 'nl' },
): Promise<Client> {
  const password = user.password ?? 'a long enough password'
  const res = await admin.submit('/settings/users', '/settings/users', { role: 'user', language: 'en', ...user, password })
  if (res.statusCode !== 303) throw new Error(`adding a user failed: ${res.statusCode} ${res.body.slice(0, 500)}`)
  const client = new Client(app)
  const signIn = await client.submit('/sign-in', '/sign-in', { email: user.email, password })
  if (signIn.statusCode !== 303) throw new Error(`sign-in failed: ${signIn.statusCode}`)
  return client
}
