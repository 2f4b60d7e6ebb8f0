import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Client, setUpAdmin } from '../helpers/app.js'
import { startServer } from '../helpers/browser.js'
import { CONFIGURE } from '../helpers/configure.js'

/** Fills and submits the Sandbox's consent form as a browser would (hidden fields, CSRF, chosen scopes). */
async function consent(admin: Client, authorizeUrl: string, decision: 'allow' | 'deny', grant = ['profile', 'meetings']): Promise<string> {
  const url = new URL(authorizeUrl)
  const page = await admin.get(url.pathname + url.search)
  if (page.statusCode !== 200) throw new Error(`consent page answered ${page.statusCode}`)
  const form: Record<string, string | string[]> = { email: 'ada@sandbox.example', name: 'Ada Sandbox', decision, grant }
  for (const [, name, value] of page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (name !== '_csrf') form[name!] = value!.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"')
  }
  const res = await admin.post('/sandbox/oauth/authorize', form)
  if (res.statusCode !== 303) throw new Error(`consent answered ${res.statusCode}: ${res.body.slice(0, 400)}`)
  const back = new URL(String(res.headers.location))
  return back.pathname + back.search
}

async function start(t: Test): Promise<{ app: FastifyInstance; admin: Client }> {
  const { app } = await startServer(t)
  const admin = await setUpAdmin(app)
  return { app, admin }
}

t.test('Sandbox: the whole Configure flow against the real built-in authorization server', async (t) => {
  const { app, admin } = await start(t)
  await admin.get(CONFIGURE)
  const chosen = await admin.post(`${CONFIGURE}/sandbox`)
  t.equal(chosen.statusCode, 303)
  const authorizeUrl = String(chosen.headers.location)
  t.match(authorizeUrl, `${app.config.baseUrl}/sandbox/oauth/authorize?`)
  const callback = await consent(admin, authorizeUrl, 'allow')
  t.match(callback, /^\/oauth\/sandbox\/callback\?code=[^&]+&state=[^&]+&iss=/)
  const res = await admin.get(callback)
  t.equal(res.headers.location, CONFIGURE)
  const page = await admin.get(CONFIGURE)
  t.match(page.body, 'Configured configurations')
  t.match(page.body, '<strong>Sandbox</strong>')
  t.match(page.body, 'Ada Sandbox')
  t.match(page.body, 'ada@sandbox.example')
  t.match(page.body, 'name="passcode"')

  // Save a changed setting.
  const saved = await admin.post(`${CONFIGURE}/settings`, { passcode: 'abc12345', waitingRoom: 'true' })
  t.equal(saved.statusCode, 303)
  t.same(app.services.video.organization()!.settings, { passcode: 'abc12345', waitingRoom: true })
  const partial = await admin.get('/settings/video-meetings', { 'hx-request': 'true' })
  t.match(partial.body, /^<div id="video-status"/)
  t.match(partial.body, '<strong>Sandbox</strong>')

  // Disconnect revokes at the Sandbox: its refresh token no longer works.
  const tokens = app.db.prepare("SELECT COUNT(*) FROM sandbox_tokens WHERE revoked_at IS NULL AND kind = 'refresh'").pluck().get()
  t.equal(tokens, 1)
  await admin.post('/settings/video-meetings/disconnect')
  t.equal(app.db.prepare("SELECT COUNT(*) FROM sandbox_tokens WHERE revoked_at IS NULL AND kind = 'refresh'").pluck().get(), 0, 'revoked at the provider')
  t.match((await admin.get(CONFIGURE)).body, 'Sandbox was disconnected.')
})

t.test('Sandbox: denied consent, a dropped scope and a forged issuer store nothing', async (t) => {
  const { app, admin } = await start(t)
  const choose = async () => {
    await admin.get(CONFIGURE)
    return String((await admin.post(`${CONFIGURE}/sandbox`)).headers.location)
  }
  await admin.get(await consent(admin, await choose(), 'deny'))
  t.match((await admin.get(CONFIGURE)).body, 'The sign-in at Sandbox was cancelled')

  await admin.get(await consent(admin, await choose(), 'allow', ['profile']))
  t.match((await admin.get(CONFIGURE)).body, /did not grant all permissions Video Meetings needs \(missing: meetings\)/)

  const callback = await consent(admin, await choose(), 'allow')
  await admin.get(callback.replace(/iss=[^&]+/, `iss=${encodeURIComponent('https://evil.example/sandbox')}`))
  t.match((await admin.get(CONFIGURE)).body, 'The sign-in answer did not come from Sandbox.')
  t.equal(app.services.video.organization(), null)
})
