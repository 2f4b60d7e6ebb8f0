/**
 * Tampered ciphertext: every secret at rest is sealed with AES-256-GCM and associated data naming its row
 * (src/security/vault.ts). A sealed value with one byte flipped, with a truncated tag, or moved to another
 * user's or another row must be rejected, and the app must turn that into a "needs reconnect / type it again"
 * state the person can act on: pages answer without 5xx, nothing is sent with the wrong credentials.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { VaultError } from '../../src/security/vault.js'
import { startZoomFake } from '../fakes/zoom.js'
import type { ProviderFake } from '../fakes/common.js'
import { startSmtpFake, type SmtpFake } from '../fakes/smtp.js'
import { addUser, Client, setUpAdmin, testApp } from '../helpers/app.js'
import { CONFIGURE, connectThroughFake } from '../helpers/configure.js'
import { flipCiphertextByte, formatSealed, parseSealed, truncateTag } from './canary-helpers.js'

const SMTP = { user: 'smtp-user', pass: 'CANARY-smtp-tamper-password' }

const FORM = {
  title: 'Tamper check',
  typeId: '',
  start: '2030-06-03T10:00',
  end: '2030-06-03T11:00',
  duration: '',
  timeZone: 'Europe/Amsterdam',
  location: '',
  description: '',
  attendees: 'anna@extern.example',
  video: 'true',
}

const USER_PAGES = ['/', '/follow-ups', '/follow-ups/new', '/preferences/general', '/preferences/video-meetings', '/preferences/email']
const ADMIN_PAGES = [...USER_PAGES, '/settings/video-meetings', CONFIGURE, '/settings/video-meetings/users', '/settings/video-meetings/clients/zoom', '/settings/email', '/settings/audit-log']

interface World {
  app: FastifyInstance
  fake: ProviderFake
  smtp: SmtpFake
  admin: Client
  bob: Client
  carol: Client
  bobId: number
  carolId: number
}

/** Follows a redirect to the fake's sign-in and back, as the browser would; returns where the app sends the user. */
async function throughProvider(client: Client, location: string): Promise<string> {
  const res = await fetch(location, { redirect: 'manual' })
  const back = new URL(res.headers.get('location')!)
  const done = await client.get(back.pathname + back.search)
  return String(done.headers.location)
}

/**
 * Zoom (the fake) registered through the form, so its client secret is stored sealed; connected by the admin;
 * Bob and Carol each connected to Zoom and with their own mail server (the SMTP fake).
 */
async function world(t: Test): Promise<World> {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const smtp = await startSmtpFake({ auth: SMTP })
  t.teardown(() => smtp.close())
  const env: Record<string, string> = { ...fake.env, PROVIDER_TIMEOUT_MS: '2000', SMTP_TIMEOUT_MS: '1500' }
  delete env.ZOOM_CLIENT_ID
  delete env.ZOOM_CLIENT_SECRET
  const app = await testApp(t, env, { startWorkers: false })
  const admin = await setUpAdmin(app)
  const registered = await admin.submit('/settings/video-meetings/clients/zoom', '/settings/video-meetings/clients/zoom', { clientId: fake.clientId, clientSecret: fake.clientSecret })
  if (registered.statusCode !== 303) throw new Error(`registering the client: ${registered.statusCode}`)
  await connectThroughFake(app, admin, 'zoom')
  const users: Client[] = []
  for (const [name, email] of [['Bob', 'bob@example.com'], ['Carol', 'carol@example.com']] as const) {
    const client = await addUser(app, admin, { name, email })
    const connect = await client.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
    await throughProvider(client, String(connect.headers.location))
    const saved = await client.submit('/preferences/email', '/preferences/email', mailForm(smtp.port, { fromName: name, fromAddress: email }))
    if (saved.statusCode !== 303) throw new Error(`saving ${name}'s email settings: ${saved.statusCode}`)
    users.push(client)
  }
  const idOf = (email: string) => app.services.users.findByEmailWithHash(email)!.id
  return { app, fake, smtp, admin, bob: users[0]!, carol: users[1]!, bobId: idOf('bob@example.com'), carolId: idOf('carol@example.com') }
}

function mailForm(port: number, extra: Record<string, string> = {}) {
  return { host: '127.0.0.1', port: String(port), security: 'none', username: SMTP.user, password: SMTP.pass, fromName: 'Someone', fromAddress: 'someone@example.com', action: 'save', ...extra }
}

/** Every page answers, none with a 5xx. */
async function pagesAnswer(t: Test, client: Client, urls: string[], who: string): Promise<void> {
  for (const url of urls) {
    const res = await client.get(url)
    t.ok(res.statusCode < 500, `${who}: GET ${url} → ${res.statusCode}`)
  }
}

const tokensOf = (app: FastifyInstance, userId: number) => app.db.prepare('SELECT tokens_enc FROM user_connections WHERE user_id = ?').pluck().get(userId) as string
const setTokens = (app: FastifyInstance, userId: number, sealed: string) => app.db.prepare('UPDATE user_connections SET tokens_enc = ? WHERE user_id = ?').run(sealed, userId)
const connectionOf = (app: FastifyInstance, userId: number) => app.db.prepare('SELECT status, status_reason AS reason FROM user_connections WHERE user_id = ?').get(userId) as { status: string; reason: string }
const orgTokens = (app: FastifyInstance) => app.db.prepare('SELECT tokens_enc FROM organization_provider').pluck().get() as string
const setOrgTokens = (app: FastifyInstance, sealed: string) => app.db.prepare('UPDATE organization_provider SET tokens_enc = ?').run(sealed)
const clientSecretOf = (app: FastifyInstance, provider = 'zoom') => app.db.prepare('SELECT client_secret_enc FROM provider_clients WHERE provider = ?').pluck().get(provider) as string
const passwordOf = (app: FastifyInstance, userId: number) => app.db.prepare('SELECT password_enc FROM mail_settings WHERE user_id = ?').pluck().get(userId) as string
const setPassword = (app: FastifyInstance, userId: number, sealed: string) => app.db.prepare('UPDATE mail_settings SET password_enc = ? WHERE user_id = ?').run(sealed, userId)

/**
 * The user's connection no longer opens: Preferences → Video meetings says so, a follow-up with video is saved
 * and says the connection needs to be renewed, no meeting is made with whatever the value decrypts to.
 */
async function expectUserNeedsReconnect(t: Test, w: World, client: Client, userId: number): Promise<void> {
  const meetingsBefore = w.fake.meetings.size
  await pagesAnswer(t, client, USER_PAGES, 'the user')
  await pagesAnswer(t, w.admin, ADMIN_PAGES, 'the admin')
  const prefs = await client.get('/preferences/video-meetings')
  t.equal(prefs.statusCode, 200)
  t.match(prefs.body, 'Needs reconnect', 'Preferences → Video meetings shows "Needs reconnect" as soon as the stored sign-in no longer opens')

  await client.get('/follow-ups/new')
  const created = await client.post('/follow-ups', FORM)
  t.equal(created.statusCode, 303, 'the follow-up is saved')
  t.match(String(created.headers.location), `${w.fake.url}/oauth/authorize?`, 'and the user is asked to sign in again')
  const followUpId = w.app.db.prepare('SELECT MAX(id) FROM follow_ups').pluck().get()
  const page = await client.get(`/follow-ups/${followUpId}`)
  t.ok(page.statusCode < 500, `the follow-up page answers (${page.statusCode})`)
  t.match(page.body, 'Your Zoom connection needs to be renewed', 'the follow-up says the connection needs renewing')
  t.equal(w.fake.meetings.size, meetingsBefore, 'no meeting was made')
  t.equal(connectionOf(w.app, userId).status, 'needs_reconnect', 'stored as needs_reconnect')
  t.equal(connectionOf(w.app, userId).reason, 'unreadable', 'with the reason "unreadable"')
  const after = await client.get('/preferences/video-meetings')
  t.match(after.body, 'Needs reconnect')
  t.match(after.body, 'The stored sign-in can no longer be read.', 'Preferences → Video meetings says why')
  await pagesAnswer(t, client, USER_PAGES, 'the user, afterwards')
  t.match((await w.admin.get('/settings/video-meetings/users')).body, 'Bob', 'Manage users still lists the connection')

  // Reconnect repairs it (same row).
  const reconnect = await client.post('/preferences/video-meetings/connect')
  t.equal(reconnect.statusCode, 303)
  await throughProvider(client, String(reconnect.headers.location))
  t.same(connectionOf(w.app, userId), { status: 'connected', reason: '' }, 'Reconnect repairs the connection')
}

t.test('a user connection whose tokens have one flipped byte needs reconnect; never a 5xx', async (t) => {
  const w = await world(t)
  setTokens(w.app, w.bobId, flipCiphertextByte(tokensOf(w.app, w.bobId)))
  await expectUserNeedsReconnect(t, w, w.bob, w.bobId)
  t.same(connectionOf(w.app, w.carolId), { status: 'connected', reason: '' }, 'Carol is not affected')
})

t.test("a user connection's tokens moved to another user's row, or the organization's tokens moved into it, are rejected", async (t) => {
  const w = await world(t)
  const carolMeetingsBefore = w.fake.meetings.size
  setTokens(w.app, w.bobId, tokensOf(w.app, w.carolId))
  await expectUserNeedsReconnect(t, w, w.bob, w.bobId)
  t.equal(w.fake.meetings.size, carolMeetingsBefore, "nothing was created with Carol's account")

  // Carol's own connection still works: her follow-up gets a meeting.
  await w.carol.get('/follow-ups/new')
  const carols = await w.carol.post('/follow-ups', FORM)
  t.match((await w.carol.get(String(carols.headers.location))).body, 'Join meeting', "Carol's own tokens still open in her own row")

  // Another kind of row: the organization's sealed tokens copied into Bob's connection.
  setTokens(w.app, w.bobId, orgTokens(w.app))
  await expectUserNeedsReconnect(t, w, w.bob, w.bobId)
})

t.test('a truncated 4-byte GCM tag is rejected (authTagLength 16 enforced), in the vault and through the app', async (t) => {
  const w = await world(t)
  const vault = w.app.services.vault
  const sealed = vault.seal('a secret', 'aad:1')
  t.equal(vault.open(sealed, 'aad:1'), 'a secret', 'control: the untouched value opens')
  t.equal(parseSealed(sealed).tag.length, 16, 'seals with a 16-byte tag')
  for (const bytes of [4, 8, 12, 15]) {
    t.throws(() => vault.open(truncateTag(sealed, bytes), 'aad:1'), VaultError, `a ${bytes}-byte prefix of the real tag is refused`)
  }
  t.throws(() => vault.open(sealed, 'aad:2'), VaultError, 'other associated data is refused')
  t.throws(() => vault.open(flipCiphertextByte(sealed, 0), 'aad:1'), VaultError, 'a flipped ciphertext byte is refused')
  const p = parseSealed(sealed)
  const flip = (b: Buffer) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 1 : x)))
  t.throws(() => vault.open(formatSealed({ ...p, iv: flip(p.iv) }), 'aad:1'), VaultError, 'a flipped IV byte is refused')
  t.throws(() => vault.open(formatSealed({ ...p, tag: flip(p.tag) }), 'aad:1'), VaultError, 'a flipped tag byte is refused')
  t.throws(() => vault.open(formatSealed({ ...p, keyId: 'AAAAAAAA' }), 'aad:1'), VaultError, 'an unknown key id is refused')
  t.throws(() => vault.open(sealed.split('.').slice(0, 4).join('.'), 'aad:1'), VaultError, 'a value without its tag is refused')

  // The same through a stored connection: the real tag's first 4 bytes, nothing else changed.
  setTokens(w.app, w.bobId, truncateTag(tokensOf(w.app, w.bobId), 4))
  await expectUserNeedsReconnect(t, w, w.bob, w.bobId)
})

t.test("the organization provider's tokens, flipped or moved: the status panel says the connection needs renewing", async (t) => {
  const w = await world(t)
  const original = orgTokens(w.app)
  for (const [how, value] of [
    ['one flipped byte', flipCiphertextByte(original)],
    ["Bob's connection tokens moved into the organization row", tokensOf(w.app, w.bobId)],
    ['a truncated tag', truncateTag(original, 4)],
  ] as const) {
    setOrgTokens(w.app, value)
    await pagesAnswer(t, w.admin, ADMIN_PAGES, `admin (${how})`)
    await pagesAnswer(t, w.bob, USER_PAGES, `Bob (${how})`)
    const status = await w.admin.get('/settings/video-meetings')
    t.equal(status.statusCode, 200)
    t.match(status.body, 'The connection needs to be renewed', `${how}: the status panel says so`)
    const partial = await w.admin.get('/settings/video-meetings', { 'hx-request': 'true' })
    t.match(partial.body, 'The connection needs to be renewed', `${how}: the htmx-refreshed panel too`)
  }
  setOrgTokens(w.app, original)
  t.notMatch((await w.admin.get('/settings/video-meetings')).body, 'needs to be renewed', 'control: the original value reads fine')

  // Disconnect with unreadable tokens still works (nothing to revoke), without a 5xx.
  setOrgTokens(w.app, flipCiphertextByte(original))
  await w.admin.get('/settings/video-meetings/disconnect')
  const out = await w.admin.post('/settings/video-meetings/disconnect')
  t.equal(out.statusCode, 303)
  t.equal(w.app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0, 'disconnected')
  await pagesAnswer(t, w.admin, ADMIN_PAGES, 'admin after disconnect')
})

t.test('a provider client secret, flipped or moved to another row: the app-registration form says it can no longer be read', async (t) => {
  const w = await world(t)
  const original = clientSecretOf(w.app)
  w.app.db.prepare('UPDATE provider_clients SET client_secret_enc = ? WHERE provider = ?').run(flipCiphertextByte(original), 'zoom')

  await pagesAnswer(t, w.admin, ADMIN_PAGES, 'admin')
  await pagesAnswer(t, w.bob, USER_PAGES, 'Bob')
  const form = await w.admin.get('/settings/video-meetings/clients/zoom')
  t.equal(form.statusCode, 200)
  t.match(form.body, 'The stored secret can no longer be read', 'the form asks for the secret again')

  // Using it: a meeting with a fresh token needs no client secret; a refresh or a (re)connect cannot happen.
  await w.bob.get('/follow-ups/new')
  const created = await w.bob.post('/follow-ups', FORM)
  t.equal(created.statusCode, 303)
  t.ok((await w.bob.get(String(created.headers.location))).statusCode < 500, 'the follow-up page answers')
  w.fake.expireAccessTokensNow()
  const tokenRequests = w.fake.count('/oauth/token', 'POST')
  const second = await w.bob.post('/follow-ups', { ...FORM, title: 'After expiry' })
  t.ok(second.statusCode < 500, `a follow-up needing a refresh answers ${second.statusCode}`)
  t.ok((await w.bob.get(String(second.headers.location))).statusCode < 500, 'and its page answers')
  t.equal(w.fake.count('/oauth/token', 'POST'), tokenRequests, 'no token request with a secret the app cannot read')
  await w.bob.get('/preferences/video-meetings')
  const reconnect = await w.bob.post('/preferences/video-meetings/connect')
  t.ok(reconnect.statusCode < 500, `Reconnect while the client secret is unreadable answers without a 5xx (${reconnect.statusCode})`)
  await w.admin.get(CONFIGURE)
  const configure = await w.admin.post(`${CONFIGURE}/zoom`)
  t.ok(configure.statusCode < 500, `Configure answers ${configure.statusCode}`)

  // Typing it again repairs it.
  const fixed = await w.admin.submit('/settings/video-meetings/clients/zoom', '/settings/video-meetings/clients/zoom', { clientId: w.fake.clientId, clientSecret: w.fake.clientSecret })
  t.equal(fixed.statusCode, 303)
  t.notMatch((await w.admin.get('/settings/video-meetings/clients/zoom')).body, 'can no longer be read', 'readable again')

  // Moved to another provider's row: Zoom's sealed secret under Webex does not open.
  w.app.db
    .prepare("INSERT INTO provider_clients (provider, client_id, client_secret_enc, tenant, updated_by) VALUES ('webex', 'webex-client', ?, NULL, NULL)")
    .run(clientSecretOf(w.app))
  const webex = await w.admin.get('/settings/video-meetings/clients/webex')
  t.equal(webex.statusCode, 200)
  t.match(webex.body, 'The stored secret can no longer be read', "Zoom's secret moved to the Webex row is refused")
  t.notMatch((await w.admin.get('/settings/video-meetings/clients/zoom')).body, 'can no longer be read', 'Zoom itself still reads')
  await pagesAnswer(t, w.admin, ADMIN_PAGES, 'admin, with a moved secret')
})

t.test('an SMTP password, flipped or moved: the email page says it can no longer be read; sending fails with a reason', async (t) => {
  const w = await world(t)
  for (const [how, value] of [
    ['one flipped byte', () => flipCiphertextByte(passwordOf(w.app, w.bobId))],
    ["Carol's password moved to Bob's row", () => passwordOf(w.app, w.carolId)],
  ] as const) {
    // Start from a good password each round.
    const saved = await w.bob.submit('/preferences/email', '/preferences/email', mailForm(w.smtp.port, { fromName: 'Bob', fromAddress: 'bob@example.com' }))
    t.equal(saved.statusCode, 303)
    setPassword(w.app, w.bobId, value())

    await pagesAnswer(t, w.bob, USER_PAGES, `Bob (${how})`)
    const page = await w.bob.get('/preferences/email')
    t.equal(page.statusCode, 200)
    t.match(page.body, 'The stored password can no longer be read', `${how}: Preferences → Email says so`)

    const test = await w.bob.post('/preferences/email', mailForm(w.smtp.port, { password: '', action: 'test', fromName: 'Bob', fromAddress: 'bob@example.com' }))
    t.equal(test.statusCode, 422, `${how}: the test email fails, not a 5xx`)
    t.match(test.body, /can no longer be read/i, 'with the reason')

    const mailsBefore = w.smtp.mails.length
    await w.bob.get('/follow-ups/new')
    const created = await w.bob.post('/follow-ups', { ...FORM, title: `Invite (${how})`, video: '', sendInvitations: 'true' })
    t.equal(created.statusCode, 303)
    w.app.db.prepare("UPDATE outbox SET next_attempt_at = 0 WHERE state <> 'sent'").run()
    await w.app.services.mail.mailer.runDue()
    const row = w.app.db.prepare('SELECT state, last_error FROM outbox ORDER BY id DESC LIMIT 1').get() as { state: string; last_error: string }
    t.equal(row.state, 'failed', `${how}: the invitation fails (no retry loop with a password that cannot work)`)
    t.same(JSON.parse(row.last_error), { code: 'password_unreadable' }, `the reason is recorded: ${row.last_error}`)
    t.equal(w.smtp.mails.length, mailsBefore, 'nothing was delivered')
    const followUp = await w.bob.get(String(created.headers.location))
    t.equal(followUp.statusCode, 200)
    t.match(followUp.body, 'invitation: failed', 'the follow-up shows the failed invitation')
    t.match(followUp.body, 'The stored email password can no longer be read (was SECRET_KEY changed?): type it again', 'and says why')
  }

  // The installation's server: Bob's sealed password copied into the installation row does not open there.
  await w.admin.submit('/settings/email', '/settings/email', mailForm(w.smtp.port, { fromName: 'Installation', fromAddress: 'noreply@example.com' }))
  const saved = await w.bob.submit('/preferences/email', '/preferences/email', mailForm(w.smtp.port, { fromName: 'Bob', fromAddress: 'bob@example.com' }))
  t.equal(saved.statusCode, 303)
  w.app.db.prepare('UPDATE mail_settings SET password_enc = ? WHERE user_id IS NULL').run(passwordOf(w.app, w.bobId))
  const installation = await w.admin.get('/settings/email')
  t.equal(installation.statusCode, 200)
  t.match(installation.body, 'The stored password can no longer be read', 'Settings → Email says so')
  t.notMatch((await w.bob.get('/preferences/email')).body, 'can no longer be read', "Bob's own still reads")
})
