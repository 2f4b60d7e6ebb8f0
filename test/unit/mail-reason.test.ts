/**
 * Mail-failure reasons: classified from the transport's errors (mail/transport.ts), stored as data, read back in
 * the reader's language (mail/reason.ts) with the server's own answer verbatim. Older rows hold plain English and
 * show as they are; what this version cannot read shows as a general sentence, never as raw JSON, never throws.
 */
import t from 'tap'
import { en } from '../../src/i18n/en.js'
import { nl } from '../../src/i18n/nl.js'
import { translator } from '../../src/i18n/index.js'
import {
  encodeMailReason,
  englishMailReason,
  MAIL_REASON_CODES,
  MAIL_TIMEOUT_PHASES,
  mailReasonText,
  MAX_STORED,
  parseMailReason,
  type MailReason,
} from '../../src/mail/reason.js'
import { describeSmtpError } from '../../src/mail/transport.js'

const enT = translator('en')
const nlT = translator('nl')
const inDutch = (stored: unknown) => mailReasonText(nlT, stored, 'nl')

const smtpError = (message: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(message), fields)

t.test('every code and timeout phase has its words in both catalogs', async (t) => {
  const keys = [...MAIL_REASON_CODES.filter((c) => c !== 'timeout').map((c) => `mail.reason.${c}`), ...MAIL_TIMEOUT_PHASES.map((p) => `mail.reason.timeout.${p}`), 'mail.reason.unknown', 'mail.reason.noDetail']
  for (const key of keys) t.ok(key in en && key in nl, key)
  for (const code of MAIL_REASON_CODES) {
    const reason: MailReason = { code, status: 550, answer: '550 No', detail: 'connect ECONNREFUSED', phase: 'greeting' }
    for (const [language, t_] of [['en', enT], ['nl', nlT]] as const) {
      const said = mailReasonText(t_, reason, language)
      t.notMatch(said, /\{\w+\}|mail\.reason\./, `${language} ${code}: no placeholder or key left in "${said}"`)
      t.ok(said.length > 0, `${language} ${code}: says something`)
    }
  }
})

t.test('nodemailer errors: classified, with the server’s answer verbatim and the same retry rules', async (t) => {
  const cases: [string, Error, Partial<MailReason>, boolean, string][] = [
    ['refused', smtpError('connect ECONNREFUSED 127.0.0.1:25', { code: 'ESOCKET' }), { code: 'connection_refused', detail: 'connect ECONNREFUSED 127.0.0.1:25' }, true, 'connection'],
    ['no such host', smtpError('getaddrinfo ENOTFOUND smtp.nowhere.example', { code: 'EDNS' }), { code: 'host_not_found' }, true, 'connection'],
    ['connect timeout', smtpError('Connection timeout', { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT' }), { code: 'timeout', phase: 'connect' }, true, 'timeout'],
    ['greeting timeout', smtpError('Greeting never received', { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' }), { code: 'timeout', phase: 'greeting' }, true, 'timeout'],
    ['socket timeout', smtpError('Timeout', { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT' }), { code: 'timeout', phase: 'socket' }, true, 'timeout'],
    ['TLS', smtpError('wrong version number', { code: 'ESOCKET' }), { code: 'tls_failed', detail: 'wrong version number' }, false, 'tls'],
    ['ETLS', smtpError('Error initiating TLS', { code: 'ETLS' }), { code: 'tls_failed' }, false, 'tls'],
    ['auth', smtpError('Invalid login: 535 Invalid username or password', { code: 'EAUTH', response: '535 Invalid username or password', responseCode: 535 }), { code: 'auth_refused', status: 535, answer: '535 Invalid username or password' }, false, 'auth'],
    ['recipient', smtpError("Can't send mail", { code: 'EENVELOPE', command: 'RCPT TO', response: '550 Mailbox unavailable', responseCode: 550 }), { code: 'recipient_refused', status: 550, answer: '550 Mailbox unavailable' }, false, 'recipient'],
    ['recipient, later', smtpError("Can't send mail", { code: 'EENVELOPE', command: 'RCPT TO', response: '450 Greylisted', responseCode: 450 }), { code: 'recipient_refused', status: 450 }, true, 'recipient'],
    ['sender', smtpError('Mail command failed', { code: 'EENVELOPE', command: 'MAIL FROM', response: '553 Sender not allowed', responseCode: 553 }), { code: 'sender_refused', answer: '553 Sender not allowed' }, false, 'rejected'],
    ['message', smtpError('Message failed', { code: 'EMESSAGE', command: 'DATA', response: '554 Spam', responseCode: 554 }), { code: 'message_refused', answer: '554 Spam' }, false, 'rejected'],
    ['message, later', smtpError('Message failed', { code: 'EMESSAGE', command: 'DATA', response: '451 Try again later', responseCode: 451 }), { code: 'message_refused', status: 451 }, true, 'rejected'],
    ['dropped', smtpError('Connection closed unexpectedly', { code: 'ECONNECTION' }), { code: 'connection_dropped' }, true, 'connection'],
    ['connection', smtpError('Something odd', { code: 'ECONNECTION' }), { code: 'connection_failed', detail: 'Something odd' }, true, 'connection'],
    ['other answer', smtpError('Unexpected Response', { code: 'EPROTOCOL', response: '500 What', responseCode: 500 }), { code: 'rejected', status: 500, answer: '500 What' }, false, 'rejected'],
    ['anything else', smtpError('boom'), { code: 'send_failed', detail: 'boom' }, true, 'other'],
    ['refused before the server', smtpError('No recipients defined', { code: 'EENVELOPE', command: 'API' }), { code: 'send_failed', detail: 'No recipients defined' }, false, 'recipient'],
  ]
  for (const [name, error, reason, transient, kind] of cases) {
    const result = describeSmtpError(error)
    t.match(result.reason, reason, `${name}: classified`)
    t.equal(result.transient, transient, `${name}: transient`)
    t.equal(result.kind, kind, `${name}: kind`)
    t.equal(result.detail, englishMailReason(result.reason!), `${name}: the English detail for logs`)
  }
  t.equal(describeSmtpError(smtpError('x', { code: 'EAUTH', response: '535 Bad\r\nsecond line', responseCode: 535 })).reason?.answer, '535 Bad second line', 'one line')
  t.equal(describeSmtpError(null).reason?.code, 'send_failed', 'not even an error')
})

t.test('English and Dutch sentences; the server’s words untouched', async (t) => {
  const cases: [MailReason, string, string][] = [
    [{ code: 'connection_refused', detail: 'connect ECONNREFUSED 127.0.0.1:25' }, 'Connection refused: nothing accepts connections at that host and port (connect ECONNREFUSED 127.0.0.1:25).', 'Verbinding geweigerd: op die host en poort neemt niets verbindingen aan (connect ECONNREFUSED 127.0.0.1:25).'],
    [{ code: 'timeout', phase: 'connect' }, 'The server did not answer in time: no connection could be made.', 'De server antwoordde niet op tijd: er kon geen verbinding worden gemaakt.'],
    [{ code: 'timeout' }, 'The server did not answer in time: it went silent during the conversation.', 'De server antwoordde niet op tijd: hij bleef stil tijdens het gesprek.'],
    [{ code: 'auth_refused', status: 535, answer: '535 5.7.8 Bad credentials' }, "Authentication failed: the server refused the user name or password. The server's answer: 535 5.7.8 Bad credentials", 'Aanmelden mislukt: de server weigerde de gebruikersnaam of het wachtwoord. Antwoord van de server: 535 5.7.8 Bad credentials'],
    [{ code: 'recipient_refused', status: 550 }, "The server refused a recipient. The server's answer: 550", 'De server weigerde een ontvanger. Antwoord van de server: 550'],
    [{ code: 'tls_failed' }, 'TLS failure: the secure connection could not be set up (no details).', 'TLS-fout: de beveiligde verbinding kon niet worden opgezet (geen details).'],
    [{ code: 'no_settings' }, 'No email settings: configure them under Preferences → Email, then press Retry.', 'Geen e-mailinstellingen: stel ze in onder Voorkeuren → E-mail en kies dan Opnieuw proberen.'],
  ]
  for (const [reason, english, dutch] of cases) {
    t.equal(mailReasonText(enT, encodeMailReason(reason)), english, `en: ${reason.code}`)
    t.equal(inDutch(encodeMailReason(reason)), dutch, `nl: ${reason.code}`)
    t.equal(inDutch(reason), dutch, `nl, as an object: ${reason.code}`)
  }
})

t.test('stored: fits outbox.last_error whole; read back the same', async (t) => {
  const long: MailReason = { code: 'recipient_refused', status: 550, answer: `550 ${'"\\'.repeat(400)}`, detail: 'x'.repeat(1000) }
  const stored = encodeMailReason(long)
  t.ok(stored.length <= MAX_STORED, `${stored.length} characters`)
  t.equal(stored.slice(0, MAX_STORED), stored, 'the outbox slice does not cut it')
  t.match(parseMailReason(stored), { code: 'recipient_refused', status: 550, answer: /^550 / })
  t.same(parseMailReason(encodeMailReason({ code: 'timeout', phase: 'greeting' })), { code: 'timeout', phase: 'greeting' })
  t.same(JSON.parse(encodeMailReason({ code: 'nonsense' } as unknown as MailReason)), { code: 'internal_error' }, 'an unknown code is stored as an internal error')
  t.same(JSON.parse(encodeMailReason({ code: 'auth_refused', status: 9999, phase: 'never', extra: 1 } as unknown as MailReason)), { code: 'auth_refused' }, 'only known fields')
})

t.test('fallbacks: older rows as they are, the rest as a general sentence, never JSON, never a throw', async (t) => {
  t.equal(inDutch('The connection failed: connect ECONNREFUSED'), 'The connection failed: connect ECONNREFUSED', 'an older row, as stored')
  t.equal(inDutch(''), '')
  t.equal(inDutch(undefined), '')
  t.equal(inDutch(42), '')
  const general = 'Versturen is mislukt om een reden die deze versie niet kan tonen.'
  for (const stored of ['{"code":"recipient_refused","answer":"550 Mai', '{"code":"from_the_future"}', '{}', '[]', ' {"code":1}', '{not json', { code: 'nope' }]) {
    t.equal(inDutch(stored), general, `${JSON.stringify(stored)}: general`)
  }
  t.equal(parseMailReason('plain text'), null)
  const throwing = (() => {
    throw new Error('catalog broken')
  }) as typeof nlT
  t.equal(mailReasonText(throwing, '{"code":"timeout"}'), '', 'a broken translator: empty, not a throw')
  t.equal(englishMailReason({ code: 'internal_error' }), 'Something went wrong in Video Meetings while sending; it is tried again.')
})
