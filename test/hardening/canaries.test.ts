/**
 * Canary secrets: the Zoom fake hands out recognisable codes, tokens and start_url `zak=` tokens, the client
 * secret, SMTP password and user passwords are recognisable too. One full flow runs with the logger at
 * `trace`; afterwards none of these secrets (raw, URL-encoded, base64, base64url) may be found in the log
 * output, any response body or header, any mail the SMTP server received, or the raw bytes of the database
 * file, its WAL and a backup of it. That is what proves encryption at rest and a clean log.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { buildApp, DATABASE_FILE } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { loggerOptions } from '../../src/logger.js'
import { startZoomFake } from '../fakes/zoom.js'
import { startSmtpFake } from '../fakes/smtp.js'
import { ADMIN, followUpForm, tempDir } from '../helpers/app.js'
import { CONFIGURE, startAtProvider } from '../helpers/configure.js'
import { bytesAsText, encodedForms, findLeaks, RecordingClient, type Haystack, type Needle, type RecordedResponse } from './canary-helpers.js'

const canary = (kind: string) => `CANARY-${kind}-${randomBytes(12).toString('hex')}`

t.test('the encoded-forms search finds a secret however it is wrapped', async (t) => {
  const secret = canary('probe')
  const needles = encodedForms('probe', secret)
  for (const prefix of ['', 'a', 'ab', 'abc']) {
    for (const enc of ['base64', 'base64url'] as const) {
      const text = Buffer.from(`${prefix}${secret}:tail`).toString(enc)
      t.ok(findLeaks([{ where: 'x', text }], needles).length > 0, `${enc} at offset ${prefix.length}`)
    }
  }
  t.ok(findLeaks([{ where: 'x', text: `q=${encodeURIComponent(secret + '/+ ')}` }], encodedForms('probe', secret + '/+ ')).length > 0, 'URL-encoded')
  t.same(findLeaks([{ where: 'x', text: 'nothing here' }], needles), [])
})

t.test('a full flow at trace level leaks no canary into logs, responses, mails, the database, its WAL or a backup', async (t) => {
  const SMTP = { user: 'bob-smtp', pass: canary('smtp') }
  const ADMIN_PW = canary('pw')
  const BOB_PW = canary('pw')

  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const smtp = await startSmtpFake({ auth: SMTP })
  t.teardown(() => smtp.close())

  // The client is registered through the form (so its secret is stored, sealed), not from the environment.
  const env: Record<string, string> = { ...fake.env }
  delete env.ZOOM_CLIENT_ID
  delete env.ZOOM_CLIENT_SECRET
  const dataDir = tempDir(t)
  const config = loadConfig({ ...env, DATA_DIR: dataDir, LOG_LEVEL: 'trace', PROVIDER_TIMEOUT_MS: '5000', SMTP_TIMEOUT_MS: '3000' })
  const logLines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk))
      done()
    },
  })
  const app = await buildApp(config, { logger: { ...((await loggerOptions(config)) as Record<string, unknown>), stream }, startWorkers: false })
  t.teardown(() => app.close())

  const dbPath = path.join(dataDir, DATABASE_FILE)
  const files: Haystack[] = []
  const snapshotFiles = (label: string) => {
    files.push({ where: `database file (${label})`, text: bytesAsText(fs.readFileSync(dbPath)) })
    if (fs.existsSync(`${dbPath}-wal`)) files.push({ where: `WAL file (${label})`, text: bytesAsText(fs.readFileSync(`${dbPath}-wal`)) })
  }

  const responses: RecordedResponse[] = []
  const authorizeUrls: URL[] = []
  /** Follows a 303 to the fake's authorize endpoint and returns the callback path the browser is sent to. */
  const atProvider = async (location: string): Promise<string> => {
    const url = new URL(location)
    authorizeUrls.push(url)
    const res = await fetch(url, { redirect: 'manual' })
    const back = new URL(String(res.headers.get('location')))
    return back.pathname + back.search
  }

  // --- the admin sets up the installation, registers the Zoom app and connects Zoom -------------------------
  const admin = new RecordingClient(app, responses)
  t.equal((await admin.submit('/setup', '/setup', { ...ADMIN, password: ADMIN_PW })).statusCode, 303, 'setup')
  const registered = await admin.submit('/settings/video-meetings/clients/zoom', '/settings/video-meetings/clients/zoom', { clientId: fake.clientId, clientSecret: fake.clientSecret })
  t.equal(registered.statusCode, 303, 'client registered through the form')
  const { authorizeUrl, callback } = await startAtProvider(admin, 'zoom')
  authorizeUrls.push(authorizeUrl)
  const orgBack = await admin.get(callback!)
  t.equal(orgBack.statusCode, 303)
  t.match((await admin.get(String(orgBack.headers.location))).body, 'Connected to Zoom. Logged in as')

  // --- a user, Bob, connects his own Zoom account and his own mail server ------------------------------------
  t.equal((await admin.submit('/settings/users', '/settings/users', { name: 'Bob', email: 'bob@example.com', password: BOB_PW, role: 'user', language: 'en' })).statusCode, 303)
  const bob = new RecordingClient(app, responses)
  t.equal((await bob.submit('/sign-in', '/sign-in', { email: 'bob@example.com', password: BOB_PW })).statusCode, 303, 'Bob signs in')
  const connect = await bob.submit('/preferences/video-meetings', '/preferences/video-meetings/connect', {})
  t.equal(connect.statusCode, 303)
  const userBack = await bob.get(await atProvider(String(connect.headers.location)))
  t.equal(userBack.statusCode, 303)
  t.match((await bob.get('/preferences/video-meetings')).body, '>Connected<')
  const mailForm = { host: '127.0.0.1', port: String(smtp.port), security: 'none', username: SMTP.user, password: SMTP.pass, fromName: 'Bob', fromAddress: 'bob@example.com' }
  t.equal((await bob.submit('/preferences/email', '/preferences/email', { ...mailForm, action: 'save' })).statusCode, 303, 'mail settings saved')
  const test = await bob.post('/preferences/email', { ...mailForm, password: '', action: 'test' })
  t.equal(test.statusCode, 200, 'test mail through the stored password')
  snapshotFiles('after connecting')

  // --- a follow-up with video and two invited attendees ------------------------------------------------------
  const FORM = followUpForm({ title: 'Canary review', description: 'Checking for leaks', attendees: 'anna@extern.example\nbert@extern.example', sendInvitations: 'true' })
  const created = await bob.submit('/follow-ups/new', '/follow-ups', FORM)
  t.equal(created.statusCode, 303)
  const followUpUrl = String(created.headers.location)
  t.match(followUpUrl, /^\/follow-ups\/\d+$/)
  t.match((await bob.get(followUpUrl)).body, 'Join meeting')
  t.equal(fake.meetings.size, 1, 'a meeting at Zoom')
  app.db.pragma('wal_checkpoint(PASSIVE)')
  snapshotFiles('after a passive checkpoint')

  // --- the access token expires; a change forces a refresh; the meeting is updated ---------------------------
  fake.expireAccessTokensNow()
  const refreshes = () => fake.requests.filter((r) => r.path.endsWith('/oauth/token') && (r.body as Record<string, string> | undefined)?.grant_type === 'refresh_token').length
  const refreshesBefore = refreshes()
  const link = app.db.prepare('SELECT location FROM follow_ups').pluck().get() as string
  await bob.get(`${followUpUrl}/edit`)
  const moved = await bob.post(followUpUrl, { ...FORM, start: '2030-03-05T14:00', end: '2030-03-05T15:00', location: link })
  t.equal(moved.statusCode, 303)
  t.ok(refreshes() > refreshesBefore, 'the expired access token was refreshed')
  t.equal([...fake.meetings.values()][0].start_time, '2030-03-05T13:00:00Z', 'the meeting was updated')
  snapshotFiles('after the refresh')

  // --- invitations go out -----------------------------------------------------------------------------------
  app.db.prepare('UPDATE jobs SET run_at = 0').run()
  await app.services.meetings.runDue()
  for (let i = 0; i < 3; i++) {
    app.db.prepare("UPDATE outbox SET next_attempt_at = 0 WHERE state <> 'sent'").run()
    await app.services.mail.mailer.runDue()
  }
  await smtp.waitFor(3) // the test mail and at least one invitation per attendee
  const recipients = new Set(smtp.mails.flatMap((m) => m.to))
  t.ok(recipients.has('anna@extern.example') && recipients.has('bert@extern.example'), 'both attendees invited')
  t.match((await bob.get(followUpUrl)).body, 'invitation: sent')
  t.equal((await bob.get(`${followUpUrl}/invite.ics`)).statusCode, 200)
  for (const url of ['/follow-ups', '/preferences/video-meetings', '/preferences/email']) t.equal((await bob.get(url)).statusCode, 200, url)
  for (const url of ['/settings/video-meetings', CONFIGURE, '/settings/video-meetings/users', '/settings/video-meetings/clients/zoom', '/settings/audit-log']) {
    t.equal((await admin.get(url)).statusCode, 200, url)
  }
  snapshotFiles('after sending')

  // --- the user disconnects, then the admin -------------------------------------------------------------------
  const revokes = fake.count('revoke', 'POST')
  await bob.get('/preferences/video-meetings')
  t.equal((await bob.post('/preferences/video-meetings/disconnect')).statusCode, 303)
  await admin.get('/settings/video-meetings/disconnect')
  t.equal((await admin.post('/settings/video-meetings/disconnect')).statusCode, 303)
  t.equal(fake.count('revoke', 'POST'), revokes + 2, 'both grants revoked at Zoom')
  await admin.get(CONFIGURE)
  await admin.get('/settings/audit-log')

  // --- the database, its WAL and a backup, read while the app still runs ---------------------------------------
  snapshotFiles('at the end')
  const backupPath = path.join(tempDir(t), 'backup.db')
  await app.db.backup(backupPath)
  files.push({ where: 'backup made with db.backup()', text: bytesAsText(fs.readFileSync(backupPath)) })

  // --- what was handed out ------------------------------------------------------------------------------------
  const verifiers = fake.requests.map((r) => (r.body as Record<string, string> | undefined)?.code_verifier).filter((v): v is string => typeof v === 'string')
  t.ok(fake.issued.codes.length >= 2, `${fake.issued.codes.length} codes issued`)
  t.ok(fake.issued.accessTokens.length >= 3, `${fake.issued.accessTokens.length} access tokens issued`)
  t.ok(fake.issued.refreshTokens.length >= 3, `${fake.issued.refreshTokens.length} refresh tokens issued`)
  t.ok(fake.issued.other.length >= 1, `${fake.issued.other.length} zak tokens issued`)
  t.equal(verifiers.length, 2, 'two PKCE verifiers sent to the token endpoint')
  t.match(fake.clientSecret, /^CANARY-/)

  const secrets: [string, string[]][] = [
    ['authorization code', fake.issued.codes],
    ['access token', fake.issued.accessTokens],
    ['refresh token', fake.issued.refreshTokens],
    ['zak/other provider secret', fake.issued.other],
    ['client secret', [fake.clientSecret]],
    ['SMTP password', [SMTP.pass]],
    ['admin password', [ADMIN_PW]],
    ['user password', [BOB_PW]],
    ['PKCE verifier', verifiers],
  ]
  const needles: Needle[] = secrets.flatMap(([label, values]) => values.flatMap((v) => encodedForms(label, v)))

  // --- the haystacks ----------------------------------------------------------------------------------------
  const log = logLines.join('')
  t.equal(app.log.level, 'trace', 'the logger runs at its most verbose level')
  t.ok(logLines.length > 30, `${logLines.length} log lines captured`)
  const responseHaystacks: Haystack[] = responses.flatMap((r) => [
    { where: `headers of ${r.method} ${r.url.split('?')[0]} → ${r.status}`, text: JSON.stringify(r.headers) },
    { where: `body of ${r.method} ${r.url.split('?')[0]} → ${r.status}`, text: r.body },
  ])
  t.ok(responses.length > 30, `${responses.length} responses recorded`)
  const mailHaystacks: Haystack[] = smtp.mails.map((m, i) => ({ where: `mail ${i + 1} to ${m.to.join(',')}`, text: m.raw }))
  t.ok(files.length >= 9, `${files.length} database/WAL/backup snapshots`)
  t.ok(files.some((f) => f.where.startsWith('WAL') && f.text.length > 0), 'a non-empty WAL was read')
  // Positive controls: the search sees plain data where it is expected, so silence below means something.
  t.ok(files.some((f) => f.where.startsWith('WAL') && f.text.includes('bob@example.com')), 'plain columns are visible in the raw WAL bytes')
  t.ok(files.some((f) => f.where.startsWith('database') && f.text.includes('bob@example.com')), 'plain columns are visible in the raw database bytes')
  t.ok(files.at(-1)!.text.includes('Canary review'), 'the backup holds the follow-up')
  t.ok(smtp.mails.filter((m) => m.to[0] !== 'bob@example.com').every((m) => m.raw.includes('Canary review')), 'the raw invitations are searched')

  const atFake = new Set(findLeaks([{ where: 'the fake provider\'s own request log', text: JSON.stringify(fake.requests) }], needles).map((l) => l.label))
  for (const label of ['authorization code', 'refresh token', 'access token', 'PKCE verifier']) t.ok(atFake.has(label), `control: the search finds the ${label} where it belongs (requests to the provider)`)

  const groups: [string, Haystack[]][] = [
    ['the log output', [{ where: 'log output', text: log }]],
    ['response bodies and headers', responseHaystacks],
    ['sent mails', mailHaystacks],
    ['the database file, its WAL and a backup', files],
  ]
  for (const [name, haystacks] of groups) {
    const leaks = findLeaks(haystacks, needles)
    t.same(
      leaks.map((l) => `${l.label} (${l.form}) in ${l.where}: …${l.context}…`),
      [],
      `no canary in ${name}`,
    )
  }

  // PKCE: the verifier stays on the server.
  for (const url of authorizeUrls) {
    t.notOk(url.searchParams.has('code_verifier'), `authorize URL (${url.pathname}) carries no code_verifier`)
    t.equal(url.searchParams.get('code_challenge_method'), 'S256')
  }
  t.equal(authorizeUrls.length, 2)
  const mentions = responses.filter((r) => /code_verifier/i.test(r.body) || /code_verifier/i.test(JSON.stringify(r.headers)))
  t.same(mentions.map((r) => `${r.method} ${r.url}`), [], 'no response mentions code_verifier')
})
