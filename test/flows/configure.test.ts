import t from 'tap'
import { startGoogleFake } from '../fakes/google.js'
import { startMicrosoftFake } from '../fakes/microsoft.js'
import { startWebexFake } from '../fakes/webex.js'
import { startZoomFake } from '../fakes/zoom.js'
import type { ProviderFake } from '../fakes/common.js'
import { addUser, setUpAdmin, testApp } from '../helpers/app.js'
import { CONFIGURE, connectThroughFake, startAtProvider } from '../helpers/configure.js'

const PROVIDERS: { id: string; name: string; start: (o?: object) => Promise<ProviderFake>; account: (fake: ProviderFake) => string }[] = [
  { id: 'zoom', name: 'Zoom', start: startZoomFake, account: (f) => String(f.user.email) },
  { id: 'teams', name: 'Microsoft Teams', start: startMicrosoftFake, account: (f) => String(f.user.mail) },
  { id: 'google-meet', name: 'Google Meet', start: startGoogleFake, account: (f) => String(f.user.email) },
  { id: 'webex', name: 'Webex', start: startWebexFake, account: (f) => String((f.user.emails as string[])[0]) },
]

for (const provider of PROVIDERS) {
  t.test(`${provider.name}: Configure → consent → Configured configurations → Save → Disconnect`, async (t) => {
    const fake = await provider.start()
    t.teardown(() => fake.close())
    const app = await testApp(t, fake.env)
    const admin = await setUpAdmin(app)

    const { start, authorizeUrl, callback } = await startAtProvider(admin, provider.id)
    t.equal(start.headers['cache-control'], 'no-store')
    t.equal(authorizeUrl.origin, fake.url)
    const q = authorizeUrl.searchParams
    t.equal(q.get('response_type'), 'code')
    t.equal(q.get('client_id'), fake.clientId)
    t.equal(q.get('redirect_uri'), `${app.config.baseUrl}/oauth/${provider.id}/callback`, 'exact redirect URI from BASE_URL')
    t.equal(q.get('code_challenge_method'), 'S256')
    t.match(q.get('code_challenge'), /^[\w-]{43}$/)
    t.match(q.get('state'), /^[\w-]{43}$/)
    t.notOk(q.get('code_verifier'), 'the verifier never leaves the server')
    t.ok(callback, 'the provider sent the admin back')

    const res = await admin.get(callback!)
    t.equal(res.statusCode, 303)
    t.equal(res.headers.location, CONFIGURE, 'a clean URL: the code does not stay in the address bar')
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(res.headers['referrer-policy'], 'no-referrer')
    const page = await admin.get(CONFIGURE)
    t.match(page.body, 'Configured configurations')
    t.match(page.body, `<strong>${provider.name}</strong>`)
    t.match(page.body, provider.account(fake))
    t.match(page.body, `Connected to ${provider.name}. Logged in as`)
    t.equal(fake.count('token', 'POST'), 1, 'one token request')

    const row = app.db.prepare('SELECT tokens_enc FROM organization_provider').pluck().get() as string
    for (const token of [...fake.issued.accessTokens, ...fake.issued.refreshTokens]) t.notMatch(row, token, 'tokens are stored encrypted')

    const status = await admin.get('/settings/video-meetings')
    t.match(status.body, `Your installation is configured with the following meeting service: <strong>${provider.name}</strong>`)
    t.match(status.body, /target="_blank" rel="noopener"/)

    const chooseAgain = await admin.post(`${CONFIGURE}/${provider.id === 'zoom' ? 'webex' : 'zoom'}`)
    t.equal(chooseAgain.statusCode, 303)
    t.match((await admin.get(CONFIGURE)).body, 'Disconnect it first', 'another provider only after Disconnect')

    const confirm = await admin.get('/settings/video-meetings/disconnect')
    t.match(confirm.body, `Disconnect ${provider.name}?`)
    const revokesBefore = fake.count('revoke', 'POST')
    const out = await admin.post('/settings/video-meetings/disconnect')
    t.equal(out.statusCode, 303)
    const after = await admin.get(CONFIGURE)
    t.match(after.body, `Choose ${provider.name}`, 'back to the provider list')
    t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0, 'tokens deleted')
    if (fake.env[`${provider.id === 'google-meet' ? 'GOOGLE' : provider.id.toUpperCase()}_REVOKE_URL`]) {
      t.equal(fake.count('revoke', 'POST'), revokesBefore + 1, 'revoked at the provider')
      t.match(after.body, `${provider.name} was disconnected.`)
    } else {
      t.match(after.body, 'has no way for apps to revoke their access')
    }
    const actions = app.services.audit.page(10, 0).entries.map((e) => e.action)
    t.same(actions.slice(0, 2), ['video.disconnect', 'video.connect'])
  })
}

t.test('Zoom authenticates with HTTP Basic; the others send the secret in the body', async (t) => {
  for (const provider of PROVIDERS) {
    const fake = await provider.start()
    t.teardown(() => fake.close())
    const app = await testApp(t, fake.env)
    const admin = await setUpAdmin(app)
    await connectThroughFake(app, admin, provider.id)
    const tokenRequest = fake.requests.find((r) => r.path.endsWith('token') && r.method === 'POST')!
    const body = tokenRequest.body as Record<string, string>
    t.equal(body.grant_type, 'authorization_code', provider.id)
    t.match(body.code_verifier, /^[\w-]{43}$/)
    if (provider.id === 'zoom') {
      t.match(tokenRequest.headers.authorization, /^Basic /)
      t.notOk(body.client_secret)
    } else {
      t.equal(body.client_secret, fake.clientSecret)
    }
  }
})

t.test('Google asks for offline access and consent so a refresh token comes back', async (t) => {
  const fake = await startGoogleFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, fake.env)
  const admin = await setUpAdmin(app)
  const { authorizeUrl } = await startAtProvider(admin, 'google-meet')
  t.equal(authorizeUrl.searchParams.get('access_type'), 'offline')
  t.equal(authorizeUrl.searchParams.get('prompt'), 'consent')
})

t.test('errors: a clear message, nothing stored, the previous state intact', async (t) => {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, { ...fake.env, PROVIDER_TIMEOUT_MS: '500' })
  const admin = await setUpAdmin(app)
  const stored = () => app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get()

  async function attempt(setup: () => void, expected: RegExp, mutate?: (callback: string) => string) {
    fake.reset()
    setup()
    const { callback } = await startAtProvider(admin, 'zoom')
    const res = await admin.get(mutate ? mutate(callback!) : callback!)
    t.equal(res.statusCode, 303)
    const page = await admin.get(CONFIGURE)
    t.match(page.body, expected)
    t.equal(stored(), 0, `nothing stored (${expected})`)
    return callback!
  }

  await attempt(() => (fake.knobs.deny = true), /The sign-in at Zoom was cancelled/)
  await attempt(() => (fake.knobs.tokenError = 'invalid_grant'), /Zoom did not complete the sign-in: the provider refused the grant/)
  await attempt(() => (fake.knobs.tokenStatus5xx = 503), /Zoom did not complete the sign-in: Zoom answered with a server error, HTTP 503\./)
  await attempt(() => (fake.knobs.tokenDelayMs = 2000), /Zoom did not complete the sign-in: Zoom did not answer within 0\.5 seconds/)
  await attempt(() => (fake.knobs.dropScope = 'meeting:write:meeting'), /did not grant all permissions Video Meetings needs \(missing: meeting:write:meeting\)/)
  await attempt(() => (fake.knobs.userinfoFail = true), /Signed in at Zoom, but the account could not be read/)
  await attempt(() => {}, /does not belong to a sign-in started here/, (cb) => cb.replace(/state=[^&]+/, 'state=forged'))
  await attempt(() => {}, /does not belong to a sign-in started here/, (cb) => cb.replace(/&?state=[^&]+/, ''))
  // The admin's own OAuth server said something we did not ask for.
  await attempt(() => {}, /Zoom refused the sign-in \(server_error\)/, (cb) => cb.replace(/code=[^&]+/, 'error=server_error'))
})

t.test('state: single use, bound to the session, the provider and ten minutes', async (t) => {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const webex = await startWebexFake()
  t.teardown(() => webex.close())
  const app = await testApp(t, { ...fake.env, ...webex.env })
  const admin = await setUpAdmin(app)

  // Replayed by the same session after success: lands on the configured screen, no second token request.
  const { callback } = await startAtProvider(admin, 'zoom')
  t.equal((await admin.get(callback!)).statusCode, 303)
  t.equal((await admin.get(callback!)).headers.location, CONFIGURE)
  t.equal(fake.count('token', 'POST'), 1, 'a replayed callback never reaches the token endpoint')
  t.notMatch((await admin.get(CONFIGURE)).body, 'already used', 'the replay after success is harmless')
  await admin.post('/settings/video-meetings/disconnect')

  // A callback from another browser session (login CSRF / stolen link) is refused.
  const second = await startAtProvider(admin, 'zoom')
  const { Client } = await import('../helpers/app.js')
  const other = new Client(app)
  await other.submit('/sign-in', '/sign-in', { email: 'ada@example.com', password: 'correct horse battery' })
  const stolen = await other.get(second.callback!)
  t.equal(stolen.headers.location, CONFIGURE)
  t.match((await other.get(CONFIGURE)).body, 'does not belong to a sign-in started here')
  t.equal(fake.count('token', 'POST'), 1, 'no token request for a foreign session')

  // Mix-up: a Zoom state presented at the Webex callback.
  const mixed = second.callback!.replace('/oauth/zoom/', '/oauth/webex/')
  await admin.get(mixed)
  t.match((await admin.get(CONFIGURE)).body, 'does not belong to a sign-in started here')
  t.equal(webex.count('access_token', 'POST'), 0)
  // The state was not spent by the mix-up attempt, and a failed attempt is not retried silently.
  const ok = await admin.get(second.callback!)
  t.equal(ok.statusCode, 303)
  t.match((await admin.get(CONFIGURE)).body, 'Configured configurations')
  await admin.post('/settings/video-meetings/disconnect')

  // Expired: older than ten minutes.
  const late = await startAtProvider(admin, 'zoom')
  app.db.prepare('UPDATE pending_authorizations SET created_at = created_at - 601000').run()
  await admin.get(late.callback!)
  t.match((await admin.get(CONFIGURE)).body, 'took longer than 10 minutes')
  t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)
})

t.test("Teams: the granted scope in each form Microsoft documents is read as Microsoft means it", async (t) => {
  // Microsoft documents the token response's scope as optional, and returns names in other case or prefixed with
  // the resource (https://graph.microsoft.com/OnlineMeetings.ReadWrite): an exact comparison refused good grants.
  for (const form of ['short', 'lowercase', 'resource', 'omitted'] as const) {
    await t.test(form, async (t) => {
      const fake = await startMicrosoftFake()
      t.teardown(() => fake.close())
      const app = await testApp(t, fake.env)
      const admin = await setUpAdmin(app)
      fake.knobs.tokenScopeForm = form
      const { callback } = await startAtProvider(admin, 'teams')
      await admin.get(callback!)
      t.match((await admin.get(CONFIGURE)).body, String(fake.user.mail), 'connected')
      t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 1)
    })
  }
  await t.test('a scope the grant lacks is still missing, whatever the form', async (t) => {
    const fake = await startMicrosoftFake()
    t.teardown(() => fake.close())
    const app = await testApp(t, fake.env)
    const admin = await setUpAdmin(app)
    Object.assign(fake.knobs, { tokenScopeForm: 'resource', dropScope: 'OnlineMeetings.ReadWrite' })
    const { callback } = await startAtProvider(admin, 'teams')
    await admin.get(callback!)
    t.match((await admin.get(CONFIGURE)).body, /missing: OnlineMeetings\.ReadWrite/)
    t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)
  })
})

t.test('Teams refuses personal Microsoft accounts and needs its tenant', async (t) => {
  const fake = await startMicrosoftFake({ tenant: 'common' })
  t.teardown(() => fake.close())
  const app = await testApp(t, fake.env)
  const admin = await setUpAdmin(app)
  fake.knobs.personalAccount = true
  const { callback } = await startAtProvider(admin, 'teams')
  if (callback) {
    await admin.get(callback)
    t.match((await admin.get(CONFIGURE)).body, 'work or school account')
  }
  t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)
})

t.test('a non-admin can neither start nor finish the organization flow', async (t) => {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, fake.env)
  const admin = await setUpAdmin(app)
  const bob = await addUser(app, admin, { name: 'Bob', email: 'bob@example.com' })
  await bob.get('/preferences/general')
  t.equal((await bob.post(`${CONFIGURE}/zoom`)).statusCode, 403)
  t.equal((await bob.get(CONFIGURE)).statusCode, 403)
  t.equal((await bob.post('/settings/video-meetings/disconnect')).statusCode, 403)
  // An admin's callback URL handed to a user is refused without a token request.
  const { callback } = await startAtProvider(admin, 'zoom')
  const res = await bob.get(callback!)
  t.equal(res.statusCode, 303)
  t.equal(fake.count('token', 'POST'), 0)
  t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0)
})

t.test('Jitsi needs no sign-in; its settings are validated on Save', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  await admin.get(CONFIGURE)
  const res = await admin.post(`${CONFIGURE}/jitsi`)
  t.equal(res.statusCode, 303)
  const page = await admin.get(CONFIGURE)
  t.match(page.body, 'Configured configurations')
  t.match(page.body, '<strong>Jitsi</strong>')
  t.match(page.body, 'https://meet.jit.si')
  const bad = await admin.post(`${CONFIGURE}/settings`, { serverUrl: 'http://insecure.example', roomPattern: '{title}' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'value="http://insecure.example"', 'input kept')
  t.match(bad.body, /class="error" id="setting-serverUrl-error"/)
  t.match(bad.body, /class="error" id="setting-roomPattern-error"/)
  const good = await admin.post(`${CONFIGURE}/settings`, { serverUrl: 'https://jitsi.example.org', roomPattern: 'acme-{random}' })
  t.equal(good.statusCode, 303)
  t.match((await admin.get(CONFIGURE)).body, 'value="https://jitsi.example.org"')
  t.same(app.services.video.organization()!.settings.serverUrl, 'https://jitsi.example.org')
})

t.test('Zoom settings: a random passcode is proposed; bad ones are refused next to the field', async (t) => {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, fake.env)
  const admin = await setUpAdmin(app)
  const page = await connectThroughFake(app, admin, 'zoom')
  const proposed = /name="passcode" type="text" value="([^"]+)"/.exec(page.body)?.[1]
  t.match(proposed, /^[A-Za-z0-9@_*-]{1,10}$/, 'a valid random passcode is proposed')
  const bad = await admin.post(`${CONFIGURE}/settings`, { passcode: 'way too long passcode!', autoRecording: 'cloud', waitingRoom: 'true' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, /id="setting-passcode-error"/)
  t.equal(app.services.video.organization()!.settings.passcode, proposed, 'nothing saved')
  const good = await admin.post(`${CONFIGURE}/settings`, { passcode: 'Abc-123', autoRecording: 'cloud', waitingRoom: 'true' })
  t.equal(good.statusCode, 303)
  const settings = app.services.video.organization()!.settings
  t.equal(settings.passcode, 'Abc-123')
  t.equal(settings.autoRecording, 'cloud')
  t.equal(settings.waitingRoom, true)
  t.equal(settings.joinBeforeHost, false, 'an unticked checkbox is off')
  t.match((await admin.get(CONFIGURE)).body, 'The settings were saved.')
  const entry = app.services.audit.page(1, 0).entries[0]!
  t.equal(entry.action, 'video.settings')
  t.notMatch(JSON.stringify(entry), 'Abc-123', 'the passcode is not in the audit log')
})
