import t from 'tap'
import { startZoomFake } from '../fakes/zoom.js'
import { startMicrosoftFake } from '../fakes/microsoft.js'
import { setUpAdmin, testApp } from '../helpers/app.js'
import { CONFIGURE, connectThroughFake } from '../helpers/configure.js'

t.test('a provider without a client is shown as not set up, with a link to set it up', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const page = await admin.get(CONFIGURE)
  for (const name of ['Zoom', 'Microsoft Teams', 'Google Meet', 'Webex', 'Jitsi', 'Sandbox']) t.match(page.body, `<h2>${name}`)
  t.match(page.body, 'Not set up yet: the app registration at Zoom is missing.')
  t.match(page.body, 'href="/settings/video-meetings/clients/zoom"')
  t.notMatch(page.body, 'action="/settings/video-meetings/configure/zoom"', 'no Choose button without a client')
  t.match(page.body, 'action="/settings/video-meetings/configure/jitsi"')
  t.match(page.body, 'action="/settings/video-meetings/configure/sandbox"')
  const forced = await admin.post(`${CONFIGURE}/zoom`)
  t.equal(forced.headers.location, CONFIGURE)
  t.match((await admin.get(CONFIGURE)).body, 'The app registration for Zoom is not set up yet.')
})

t.test('the client form: exact redirect URI, write-only secret, then the flow works', async (t) => {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  // Endpoints from the environment (operator), credentials from the form (admin).
  const env = Object.fromEntries(Object.entries(fake.env).filter(([k]) => !/CLIENT_(ID|SECRET)$/.test(k)))
  const app = await testApp(t, env)
  const admin = await setUpAdmin(app)
  const form = await admin.get('/settings/video-meetings/clients/zoom')
  t.match(form.body, `value="${app.config.baseUrl}/oauth/zoom/callback" readonly`)
  t.match(form.body, 'No secret is set yet.')

  const missing = await admin.post('/settings/video-meetings/clients/zoom', { clientId: fake.clientId, clientSecret: '' })
  t.equal(missing.statusCode, 422)
  t.match(missing.body, 'Enter the client secret.')
  t.match(missing.body, `value="${fake.clientId}"`)

  t.equal((await admin.post('/settings/video-meetings/clients/zoom', { clientId: fake.clientId, clientSecret: fake.clientSecret })).statusCode, 303)
  const again = await admin.get('/settings/video-meetings/clients/zoom')
  t.notMatch(again.body, fake.clientSecret, 'the secret is never shown again')
  t.match(again.body, 'A secret is set.')
  const raw = JSON.stringify(app.db.prepare('SELECT * FROM provider_clients').all())
  t.notMatch(raw, fake.clientSecret, 'stored encrypted')

  // Saving without typing a secret keeps the stored one.
  t.equal((await admin.post('/settings/video-meetings/clients/zoom', { clientId: fake.clientId, clientSecret: '' })).statusCode, 303)
  const page = await connectThroughFake(app, admin, 'zoom')
  t.match(page.body, 'Configured configurations')
})

t.test('credentials from the environment win and the form says so', async (t) => {
  const fake = await startMicrosoftFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, { ...fake.env, TEAMS_TENANT: 'organizations' })
  const admin = await setUpAdmin(app)
  const page = await admin.get('/settings/video-meetings/clients/teams')
  t.match(page.body, 'Set by the environment')
  t.notMatch(page.body, fake.clientSecret)
  t.notMatch(page.body, '<form method="post" action="/settings/video-meetings/clients/teams"')
  const post = await admin.post('/settings/video-meetings/clients/teams', { clientId: 'other', clientSecret: 'other', tenant: 'common' })
  t.equal(post.statusCode, 303)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM provider_clients').pluck().get(), 0, 'the environment is not overwritten')
})

t.test('a Teams tenant is validated', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  await admin.get('/settings/video-meetings/clients/teams')
  const bad = await admin.post('/settings/video-meetings/clients/teams', { clientId: 'id', clientSecret: 'secret', tenant: 'not a tenant!' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Enter organizations, common, a tenant ID or a domain.')
  const good = await admin.post('/settings/video-meetings/clients/teams', { clientId: 'id', clientSecret: 'secret', tenant: 'contoso.onmicrosoft.com' })
  t.equal(good.statusCode, 303)
  t.equal(app.services.video.registrations.endpoints('teams').authorizeUrl, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize')
})

t.test('a client secret that no longer decrypts asks to be typed again, never a 500', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  await admin.get('/settings/video-meetings/clients/webex')
  await admin.post('/settings/video-meetings/clients/webex', { clientId: 'id', clientSecret: 'the secret' })
  const sealed = app.db.prepare("SELECT client_secret_enc FROM provider_clients WHERE provider = 'webex'").pluck().get() as string
  const parts = sealed.split('.')
  const ct = Buffer.from(parts[3]!, 'base64url')
  ct[0] = ct[0]! ^ 1
  parts[3] = ct.toString('base64url')
  app.db.prepare("UPDATE provider_clients SET client_secret_enc = ? WHERE provider = 'webex'").run(parts.join('.'))
  const page = await admin.get('/settings/video-meetings/clients/webex')
  t.equal(page.statusCode, 200)
  t.match(page.body, 'can no longer be read')
  t.match((await admin.get(CONFIGURE)).body, 'Not set up yet: the app registration at Webex is missing.')
})

t.test('CSP form-action lists the providers’ sign-in origins (Chrome applies it to the redirect)', async (t) => {
  const app = await testApp(t, { ZOOM_AUTHORIZE_URL: 'https://eu01.zoom.example/oauth/authorize' })
  const res = await app.inject({ url: '/healthz' })
  const formAction = /form-action ([^;]+)/.exec(String(res.headers['content-security-policy']))![1]!
  for (const origin of ["'self'", 'https://eu01.zoom.example', 'https://login.microsoftonline.com', 'https://accounts.google.com', 'https://webexapis.com']) {
    t.match(formAction, origin)
  }
})
