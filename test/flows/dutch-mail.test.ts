/**
 * A Dutch user whose mail server refuses or is down: the reason is said in Dutch wherever it shows. The
 * follow-up's delivery status (outbox.last_error) and the Preferences → Email test-email result read in Dutch,
 * with the server's own answer kept verbatim inside the Dutch sentence; no English text from the catalog's mail
 * reasons leaks through, and a stored reason never shows as raw JSON.
 */
import net from 'node:net'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { en, type MessageKey } from '../../src/i18n/en.js'
import { MAX_MAIL_ATTEMPTS } from '../../src/mail/mailer.js'
import { startSmtpFake, type SmtpFake } from '../fakes/smtp.js'
import { addUser, Client, followUpForm, setUpAdmin, testApp } from '../helpers/app.js'

const SMTP_USER = { user: 'bram-smtp', pass: 'bram-smtp-password' }

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The English words of every mail reason and of the sentences around one, cut at their placeholders (two words or more). */
const ENGLISH_FRAGMENTS: { text: string; re: RegExp }[] = (Object.keys(en) as MessageKey[])
  .filter((key) => key.startsWith('mail.reason.') || ['email.testFailed', 'email.testOk'].includes(key))
  .flatMap((key) => en[key].split(/\{\w+\}/))
  .map((piece) => piece.replace(/^[\s.,:;()]+|[\s.,:;()]+$/g, ''))
  .filter((piece) => /\w+\W+\w+/.test(piece))
  .map((text) => ({ text, re: new RegExp(`\\b${escapeRe(escapeHtml(text))}\\b`) }))

function noEnglish(t: Test, what: string, body: string): void {
  const leaked = ENGLISH_FRAGMENTS.filter((f) => f.re.test(body)).map((f) => f.text)
  t.same(leaked, [], `${what}: no English mail reason text`)
  t.notMatch(body, /&quot;(?:code|answer|detail|status)&quot;/, `${what}: no stored JSON`)
}

const FORM = followUpForm({ title: 'Kwartaaloverleg', description: 'Cijfers en plannen', video: '', sendInvitations: 'true' })

function mailForm(port: number, extra: Record<string, string> = {}) {
  return { host: '127.0.0.1', port: String(port), security: 'none', username: SMTP_USER.user, password: SMTP_USER.pass, fromName: 'Bram', fromAddress: 'bram@example.com', action: 'save', ...extra }
}

async function closedPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

interface World {
  app: FastifyInstance
  smtp: SmtpFake
  bram: Client
}

/** An English administrator, and Bram, who reads Dutch, with his own mail server (the fake). */
async function world(t: Test): Promise<World> {
  const smtp = await startSmtpFake({ auth: SMTP_USER })
  t.teardown(() => smtp.close())
  const app = await testApp(t, { SMTP_TIMEOUT_MS: '1000' }, { startWorkers: false })
  const admin = await setUpAdmin(app)
  const bram = await addUser(app, admin, { name: 'Bram', email: 'bram@example.com', language: 'nl' })
  const saved = await bram.submit('/preferences/email', '/preferences/email', mailForm(smtp.port))
  if (saved.statusCode !== 303) throw new Error(`saving email settings: ${saved.statusCode}`)
  return { app, smtp, bram }
}

async function send(app: FastifyInstance): Promise<void> {
  app.db.prepare('UPDATE outbox SET next_attempt_at = 0').run()
  await app.services.mail.mailer.runDue()
}

async function createFollowUp(bram: Client, attendees: string): Promise<string> {
  await bram.get('/follow-ups/new')
  const res = await bram.post('/follow-ups', { ...FORM, attendees })
  if (res.statusCode !== 303) throw new Error(`saving the follow-up: ${res.statusCode}`)
  return String(res.headers.location)
}

const lastErrorOf = (app: FastifyInstance, recipient: string) =>
  app.db.prepare('SELECT last_error FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1').pluck().get(recipient) as string

t.test('the follow-up page: a refused recipient, a server that is down, no settings — in Dutch', async (t) => {
  const { app, smtp, bram } = await world(t)

  // The server refuses one recipient: the server's answer stays as it said it, the sentence around it is Dutch.
  smtp.knobs.rejectRecipients = ['weiger@extern.example']
  const refused = await createFollowUp(bram, 'welkom@extern.example\nweiger@extern.example')
  await send(app)
  t.same(JSON.parse(lastErrorOf(app, 'weiger@extern.example')), { code: 'recipient_refused', status: 550, answer: '550 Mailbox unavailable: weiger@extern.example' }, 'stored as data')
  const page = await bram.get(refused)
  t.match(page.body, 'welkom@extern.example · <span class="delivery delivery-sent">uitnodiging: verstuurd</span>')
  t.match(page.body, 'weiger@extern.example · <span class="delivery delivery-failed">uitnodiging: mislukt</span>')
  t.match(page.body, '(De server weigerde een ontvanger. Antwoord van de server: 550 Mailbox unavailable: weiger@extern.example)', 'the reason in Dutch, the answer verbatim')
  noEnglish(t, 'a refused recipient', page.body)

  // The server is down: retried while it may come back, then failed with the reason in Dutch.
  smtp.knobs.rejectRecipients = []
  const port = await closedPort()
  const bramId = app.db.prepare("SELECT id FROM users WHERE email = 'bram@example.com'").pluck().get() as number
  app.db.prepare('UPDATE mail_settings SET port = ? WHERE user_id = ?').run(port, bramId)
  const down = await createFollowUp(bram, 'later@extern.example')
  await send(app)
  t.equal(app.db.prepare("SELECT state FROM outbox WHERE recipient = 'later@extern.example'").pluck().get(), 'queued', 'tried again later')
  app.db.prepare("UPDATE outbox SET attempts = ? WHERE recipient = 'later@extern.example'").run(MAX_MAIL_ATTEMPTS - 1)
  await send(app)
  t.match(JSON.parse(lastErrorOf(app, 'later@extern.example')), { code: 'connection_refused', detail: /ECONNREFUSED/ })
  const downPage = await bram.get(down)
  t.match(downPage.body, 'later@extern.example · <span class="delivery delivery-failed">uitnodiging: mislukt</span>')
  t.match(downPage.body, `(Verbinding geweigerd: op die host en poort neemt niets verbindingen aan (connect ECONNREFUSED 127.0.0.1:${port}).)`)
  noEnglish(t, 'a server that is down', downPage.body)

  // No settings any more: the way out, in Dutch.
  const none = await createFollowUp(bram, 'zonder@extern.example')
  await bram.submit('/preferences/email', '/preferences/email/remove', {})
  await send(app)
  t.same(JSON.parse(lastErrorOf(app, 'zonder@extern.example')), { code: 'no_settings' })
  const nonePage = await bram.get(none)
  t.match(nonePage.body, '(Geen e-mailinstellingen: stel ze in onder Voorkeuren → E-mail en kies dan Opnieuw proberen.)')
  noEnglish(t, 'no settings', nonePage.body)

  // Rows from before reasons were structured show as they are; damaged or unknown ones as a general Dutch sentence.
  const id = app.db.prepare("SELECT id FROM outbox WHERE recipient = 'zonder@extern.example'").pluck().get() as number
  app.db.prepare('UPDATE outbox SET last_error = ? WHERE id = ?').run('The connection failed: an older row', id)
  t.match((await bram.get(none)).body, '(The connection failed: an older row)', 'an older row: as stored')
  for (const stored of ['{"code":"recipient_refused","answer":"550 Mail', '{"code":"some_future_code"}', '[1,2]']) {
    app.db.prepare('UPDATE outbox SET last_error = ? WHERE id = ?').run(stored, id)
    const body = (await bram.get(none)).body
    t.match(body, '(Versturen is mislukt om een reden die deze versie niet kan tonen.)', `${stored}: a general reason`)
    noEnglish(t, `stored ${stored}`, body)
  }
})

t.test('Voorkeuren → E-mail: the test email result in Dutch, with the server’s exact answer', async (t) => {
  const { smtp, bram } = await world(t)
  await bram.get('/preferences/email')

  const ok = await bram.post('/preferences/email', mailForm(smtp.port, { action: 'test', password: '' }))
  t.equal(ok.statusCode, 200)
  t.match(ok.body, 'Het testbericht aan bram@example.com is door de server geaccepteerd: 250 ')

  const wrong = await bram.post('/preferences/email', mailForm(smtp.port, { action: 'test', password: 'verkeerd wachtwoord' }))
  t.equal(wrong.statusCode, 422)
  t.match(
    wrong.body,
    'Het testbericht aan bram@example.com kon niet worden verstuurd. Aanmelden mislukt: de server weigerde de gebruikersnaam of het wachtwoord. Antwoord van de server: 535 Invalid username or password',
    'refused sign-in: Dutch around the server’s own answer',
  )
  noEnglish(t, 'refused sign-in', wrong.body)

  const port = await closedPort()
  const down = await bram.post('/preferences/email', mailForm(port, { action: 'test' }))
  t.equal(down.statusCode, 422)
  t.match(down.body, `Het testbericht aan bram@example.com kon niet worden verstuurd. Verbinding geweigerd: op die host en poort neemt niets verbindingen aan (connect ECONNREFUSED 127.0.0.1:${port}).`)
  noEnglish(t, 'server down', down.body)

  const silent = net.createServer(() => {}).listen(0, '127.0.0.1')
  await new Promise((r) => silent.once('listening', r))
  t.teardown(() => silent.close())
  const slow = await bram.post('/preferences/email', mailForm((silent.address() as net.AddressInfo).port, { action: 'test' }))
  t.match(slow.body, 'De server antwoordde niet op tijd: hij nam de verbinding aan maar stuurde nooit zijn begroeting.')
  noEnglish(t, 'a silent server', slow.body)

  const tls = await bram.post('/preferences/email', mailForm(smtp.port, { action: 'test', security: 'tls', host: 'localhost' }))
  t.match(tls.body, 'TLS-fout: de beveiligde verbinding kon niet worden opgezet (')
  noEnglish(t, 'a TLS failure', tls.body)
})
