/**
 * A Dutch user meets a provider fault: the reason is said in Dutch, wherever it shows. The Video meetings sign-in
 * error (Settings → Video meetings → Configure, and a user's first Connect from a follow-up) and the follow-up's
 * video meeting panel (pending, change pending, history) read in Dutch, and no English reason text leaks through.
 */
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { en, type MessageKey } from '../../src/i18n/en.js'
import type { ProviderFake } from '../fakes/common.js'
import { startZoomFake } from '../fakes/zoom.js'
import { ADMIN, addUser, Client, followUpForm, testApp } from '../helpers/app.js'
import { CONFIGURE, connectThroughFake, startAtProvider } from '../helpers/configure.js'

const FORM = followUpForm({ title: 'Kwartaaloverleg', description: 'Cijfers en plannen', attendees: 'extern@example.org' })

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The English words of every reason and of the sentences around one, as they would appear in a page: each
 * catalog text cut at its placeholders, pieces of two words or more (so "HTTP" or a provider name do not count).
 */
const ENGLISH_FRAGMENTS: { text: string; re: RegExp }[] = (Object.keys(en) as MessageKey[])
  .filter((key) => key.startsWith('reason.') || ['meeting.pendingRetry', 'meeting.changePending', 'meeting.cancelRetry', 'video.error.token', 'meeting.event.meeting.retry'].includes(key))
  .flatMap((key) => en[key].split(/\{\w+\}/))
  .map((piece) => piece.replace(/^[\s.,:;()]+|[\s.,:;()]+$/g, ''))
  .filter((piece) => /\w+\W+\w+/.test(piece) && !/^HTTP\b/.test(piece))
  .map((text) => ({ text, re: new RegExp(`\\b${escapeRe(escapeHtml(text))}\\b`) }))

function noEnglish(t: Test, what: string, body: string): void {
  const leaked = ENGLISH_FRAGMENTS.filter((f) => f.re.test(body)).map((f) => f.text)
  t.same(leaked, [], `${what}: no English reason text`)
  // Text in a page is escaped: a stored reason shown raw would read {&quot;code&quot;:…
  t.notMatch(body, /&quot;(?:code|provider|status)&quot;/, `${what}: no stored JSON`)
}

async function throughProvider(client: Client, location: string) {
  const res = await fetch(location, { redirect: 'manual' })
  const back = new URL(res.headers.get('location')!)
  return client.get(back.pathname + back.search)
}

interface World {
  app: FastifyInstance
  fake: ProviderFake
  admin: Client
}

/** A Dutch administrator (set up in Dutch) and Zoom's fake; provider calls give up after half a second. */
async function world(t: Test): Promise<World> {
  const fake = await startZoomFake()
  t.teardown(() => fake.close())
  const app = await testApp(t, { ...fake.env, PROVIDER_TIMEOUT_MS: '500' }, { startWorkers: false })
  const admin = new Client(app)
  const setup = await admin.submit('/setup', '/setup', { ...ADMIN, language: 'nl' })
  if (setup.statusCode !== 303) throw new Error(`setup answered ${setup.statusCode}`)
  return { app, fake, admin }
}

t.test('Settings → Video meetings: the sign-in error gives the reason in Dutch', async (t) => {
  const { app, fake, admin } = await world(t)
  const cases: [string, () => void, string][] = [
    ['server error', () => (fake.knobs.tokenStatus5xx = 503), 'Zoom meldde een serverfout, HTTP 503'],
    ['no answer in time', () => (fake.knobs.tokenDelayMs = 2000), 'Zoom gaf binnen 0,5 seconden geen antwoord'],
    ['an error page', () => (fake.knobs.tokenHtmlBody = true), 'Zoom antwoordde met een foutpagina, HTTP 502'],
    ['refused grant', () => (fake.knobs.tokenError = 'invalid_grant'), 'de serviceleverancier weigerde de toestemming (invalid_grant'],
  ]
  for (const [name, fault, reason] of cases) {
    fake.reset()
    fault()
    const { callback } = await startAtProvider(admin, 'zoom')
    const back = await admin.get(callback!)
    t.equal(back.headers.location, CONFIGURE, `${name}: back on Configure`)
    const page = await admin.get(CONFIGURE)
    t.match(page.body, `Zoom heeft de aanmelding niet afgerond: ${escapeHtml(reason)}`, `${name}: the reason in Dutch`)
    t.match(page.body, 'Er is niets gewijzigd; probeer het opnieuw.', `${name}: in the Dutch sentence`)
    noEnglish(t, name, page.body)
    t.equal(app.db.prepare('SELECT COUNT(*) FROM organization_provider').pluck().get(), 0, `${name}: nothing stored`)
  }
})

t.test('a follow-up: the first Connect, then a pending meeting, a pending change and the history, in Dutch', async (t) => {
  const { app, fake, admin } = await world(t)
  await connectThroughFake(app, admin, 'zoom')
  const bob = await addUser(app, admin, { name: 'Bram', email: 'bram@example.com', language: 'nl' })

  // The first use: the follow-up is saved, Bram is sent to Zoom, and Zoom's token endpoint fails.
  fake.reset()
  fake.knobs.tokenStatus5xx = 503
  await bob.get('/follow-ups/new')
  const saved = await bob.post('/follow-ups', FORM)
  t.equal(saved.statusCode, 303)
  const first = app.db.prepare('SELECT MAX(id) FROM follow_ups').pluck().get() as number
  const callback = await throughProvider(bob, String(saved.headers.location))
  t.equal(callback.headers.location, `/follow-ups/${first}`, 'back on the follow-up')
  const signInError = await bob.get(`/follow-ups/${first}`)
  t.match(
    signInError.body,
    'Zoom heeft de aanmelding niet afgerond: Zoom meldde een serverfout, HTTP 503. Er is niets gewijzigd; probeer het opnieuw.',
    'the sign-in error says why in Dutch',
  )
  noEnglish(t, 'the sign-in error on the follow-up', signInError.body)

  // Connected after all: the meeting is made.
  fake.reset()
  await bob.get('/preferences/video-meetings')
  const connect = await bob.post('/preferences/video-meetings/connect', { returnTo: `/follow-ups/${first}` })
  await throughProvider(bob, String(connect.headers.location))
  t.match((await bob.get(`/follow-ups/${first}`)).body, 'Deelnemen aan vergadering', 'the meeting exists')

  // Zoom's meeting API fails: a new follow-up waits for its link.
  fake.knobs.apiStatus = 503
  await bob.get('/follow-ups/new')
  const second = await bob.post('/follow-ups', { ...FORM, title: 'Tweede overleg' })
  const pending = await bob.get(String(second.headers.location))
  t.match(pending.body, 'Videolink volgt: Zoom meldde een serverfout, HTTP 503. We proberen het automatisch opnieuw; de vervolgactie is opgeslagen.', 'pending, with the reason in Dutch')
  t.match(pending.body, 'Aanbieder niet bereikbaar, nieuwe poging: Zoom meldde een serverfout, HTTP 503', 'the history says it in Dutch too')
  noEnglish(t, 'the pending meeting', pending.body)
  const stored = app.db.prepare('SELECT last_error FROM meetings WHERE follow_up_id = ?').pluck().get(Number(/\d+$/.exec(String(second.headers.location))![0])) as string
  t.same(JSON.parse(stored), { code: 'server_error', provider: 'Zoom', status: 503 }, 'stored as a structured reason')

  // The first follow-up is moved while Zoom still fails: the change waits.
  await bob.get(`/follow-ups/${first}/edit`)
  await bob.post(`/follow-ups/${first}`, { ...FORM, start: '2030-03-05T14:00', end: '2030-03-05T15:00' })
  const changed = await bob.get(`/follow-ups/${first}`)
  t.match(
    changed.body,
    'Uw wijzigingen zijn nog niet doorgegeven aan Zoom: Zoom meldde een serverfout, HTTP 503. We proberen het automatisch opnieuw; de vervolgactie is opgeslagen en de link blijft dezelfde.',
    'the pending change, with the reason in Dutch',
  )
  noEnglish(t, 'the pending change', changed.body)

  // Rows from before reasons were structured show their text as it is; a damaged one never shows as JSON.
  app.db.prepare('UPDATE meetings SET last_error = ? WHERE follow_up_id = ?').run('Zoom did not answer (an older row)', first)
  t.match((await bob.get(`/follow-ups/${first}`)).body, 'Uw wijzigingen zijn nog niet doorgegeven aan Zoom: Zoom did not answer (an older row).', 'an older row: as stored')
  app.db.prepare('UPDATE meetings SET last_error = ? WHERE follow_up_id = ?').run('{"code":"server_error","provider":"Zo', first)
  const damaged = await bob.get(`/follow-ups/${first}`)
  t.match(damaged.body, 'Uw wijzigingen zijn nog niet doorgegeven aan Zoom: er ging iets mis bij de serviceleverancier.', 'a damaged row: a general reason')
  noEnglish(t, 'a damaged row', damaged.body)
})
