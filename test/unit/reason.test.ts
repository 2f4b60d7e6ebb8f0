/**
 * Provider-failure reasons: stored as data, read back in the reader's language (providers/reason.ts). Older rows
 * hold plain English and show as they are; what this version cannot read shows as a general sentence, never as
 * raw JSON, and never throws.
 */
import t from 'tap'
import { en } from '../../src/i18n/en.js'
import { nl } from '../../src/i18n/nl.js'
import { translator } from '../../src/i18n/index.js'
import { ProviderError } from '../../src/providers/contract.js'
import { OAuthError } from '../../src/connections/oauth-client.js'
import { encodeReason, englishReason, parseReason, REASON_CODES, REASON_HINTS, reasonText, storedReason, type Reason } from '../../src/providers/reason.js'

const enT = translator('en')
const nlT = translator('nl')
const inEnglish = (stored: unknown) => reasonText(enT, stored, 'en')
const inDutch = (stored: unknown) => reasonText(nlT, stored, 'nl')

t.test('every code and hint has its words in both catalogs', async (t) => {
  for (const code of REASON_CODES) {
    t.ok(`reason.${code}` in en, `en: reason.${code}`)
    t.ok(`reason.${code}` in nl, `nl: reason.${code}`)
    const reason: Reason = { code, provider: 'Zoom', status: 500, errorCode: 'E1', seconds: 2, description: 'why' }
    for (const [language, said] of [['en', inEnglish(reason)], ['nl', inDutch(reason)]] as const) {
      t.notMatch(said, /\{\w+\}|reason\./, `${language} ${code}: no placeholder or key left in "${said}"`)
      t.ok(said.length > 0, `${language} ${code}: says something`)
    }
  }
  for (const hint of REASON_HINTS) {
    t.ok(`reason.hint.${hint}` in en && `reason.hint.${hint}` in nl, `reason.hint.${hint}`)
  }
})

t.test('structured reasons in English and Dutch', async (t) => {
  const cases: [Reason, string, string][] = [
    [{ code: 'timeout', provider: 'Zoom', seconds: 1 }, 'Zoom did not answer within 1 second', 'Zoom gaf binnen 1 seconde geen antwoord'],
    [{ code: 'timeout', provider: 'Zoom', seconds: 0.5 }, 'Zoom did not answer within 0.5 seconds', 'Zoom gaf binnen 0,5 seconden geen antwoord'],
    [{ code: 'timeout', provider: 'Webex', seconds: 30 }, 'Webex did not answer within 30 seconds', 'Webex gaf binnen 30 seconden geen antwoord'],
    [{ code: 'unreachable', provider: 'Zoom' }, 'Zoom could not be reached', 'Zoom was niet bereikbaar'],
    [{ code: 'broken_off', provider: 'Zoom' }, 'the connection to Zoom broke off during its answer', 'de verbinding met Zoom werd tijdens het antwoord verbroken'],
    [{ code: 'unreadable', provider: 'Zoom' }, 'Zoom sent an answer that could not be read', 'Zoom stuurde een antwoord dat niet kon worden gelezen'],
    [{ code: 'error_page', provider: 'Zoom', status: 502 }, 'Zoom answered with an error page, HTTP 502', 'Zoom antwoordde met een foutpagina, HTTP 502'],
    [
      { code: 'server_error', provider: 'Zoom', status: 503, errorCode: 'internal_failure' },
      'Zoom answered with a server error, HTTP 503, error code internal_failure',
      'Zoom meldde een serverfout, HTTP 503, foutcode internal_failure',
    ],
    [{ code: 'server_error', provider: 'Zoom' }, 'Zoom answered with a server error, HTTP status unknown', 'Zoom meldde een serverfout, HTTP-status onbekend'],
    [{ code: 'too_many_requests', provider: 'Zoom', status: 429 }, 'Zoom reported too many requests, HTTP 429', 'Zoom meldde te veel verzoeken, HTTP 429'],
    [{ code: 'refused', provider: 'Zoom', status: 400, errorCode: '300' }, 'Zoom refused the request, HTTP 400, error code 300', 'Zoom weigerde het verzoek, HTTP 400, foutcode 300'],
    [{ code: 'redirected', provider: 'Zoom', status: 302 }, 'Zoom redirected instead of answering, HTTP 302', 'Zoom stuurde door in plaats van te antwoorden, HTTP 302'],
    [{ code: 'sign_in_expired' }, 'the provider no longer accepts the sign-in', 'de serviceleverancier accepteert de aanmelding niet meer'],
    [
      { code: 'grant_refused', errorCode: 'invalid_grant', description: 'Invalid Token!' },
      'the provider refused the grant (invalid_grant: Invalid Token!)',
      'de serviceleverancier weigerde de toestemming (invalid_grant: Invalid Token!)',
    ],
    [
      { code: 'refused', provider: 'Zoom', status: 400, errorCode: '4711', hint: 'missing_scope' },
      'Zoom refused the request, HTTP 400, error code 4711: the token lacks a scope',
      'Zoom weigerde het verzoek, HTTP 400, foutcode 4711: het token mist een benodigde scope',
    ],
  ]
  for (const [reason, english, dutch] of cases) {
    const stored = encodeReason(reason)
    t.same(parseReason(stored), reason, `${reason.code}: stored and read back as it was`)
    t.equal(inEnglish(stored), english)
    t.equal(inDutch(stored), dutch)
    t.equal(englishReason(reason), english, `${reason.code}: the English rendering is the message`)
  }
  t.equal(encodeReason({ code: 'timeout', provider: 'Zoom', seconds: 1 }), '{"code":"timeout","provider":"Zoom","seconds":1}', 'the stored form is small JSON')
})

t.test('older rows: plain text shows as it is', async (t) => {
  for (const old of ['Zoom did not answer within 1 second', 'gave_up: Zoom could not be reached', 'Zoom answered 503 (503)']) {
    t.equal(inDutch(old), old)
    t.equal(inEnglish(old), old)
  }
  t.equal(inDutch(''), '', 'nothing stored: nothing said')
  t.equal(inDutch(null), '')
  t.equal(inDutch(undefined), '')
  t.equal(inDutch(42), '')
})

t.test('what this version cannot read: a general sentence, never raw JSON, never a throw', async (t) => {
  const unreadable = [
    ['an unknown code, with the provider', '{"code":"quantum_flux","provider":"Zoom","status":500}', 'something went wrong at Zoom', 'er ging iets mis bij Zoom'],
    ['an unknown code', '{"code":"quantum_flux"}', 'something went wrong at the provider', 'er ging iets mis bij de serviceleverancier'],
    ['no code', '{"provider":"Zoom"}', 'something went wrong at Zoom', 'er ging iets mis bij Zoom'],
    ['a code of the wrong type', '{"code":7}', 'something went wrong at the provider', 'er ging iets mis bij de serviceleverancier'],
    ['cut off (the 500-character column)', '{"code":"timeout","provider":"Zo', 'something went wrong at the provider', 'er ging iets mis bij de serviceleverancier'],
    ['an array', '["timeout"]', 'something went wrong at the provider', 'er ging iets mis bij de serviceleverancier'],
    ['JSON null inside braces', '{}', 'something went wrong at the provider', 'er ging iets mis bij de serviceleverancier'],
    ['a prototype trick', '{"code":"toString","__proto__":{"code":"timeout"}}', 'something went wrong at the provider', 'er ging iets mis bij de serviceleverancier'],
  ] as const
  for (const [name, stored, english, dutch] of unreadable) {
    t.equal(inEnglish(stored), english, `${name}: English`)
    t.equal(inDutch(stored), dutch, `${name}: Dutch`)
    t.equal(parseReason(stored), null, `${name}: not a reason`)
  }

  // Known code, fields of the wrong type or size: the bad fields are left out, the rest still said.
  t.equal(inDutch('{"code":"timeout","provider":42,"seconds":"soon"}'), 'de serviceleverancier gaf niet op tijd antwoord')
  t.equal(inEnglish('{"code":"server_error","provider":"Zoom","status":"503","errorCode":{"x":1}}'), 'Zoom answered with a server error, HTTP status unknown')
  t.equal(inEnglish('{"code":"server_error","provider":"Zoom","status":99999}'), 'Zoom answered with a server error, HTTP status unknown')
  t.equal(inEnglish('{"code":"unreachable","provider":"Zoom","hint":"rm -rf"}'), 'Zoom could not be reached', 'an unknown hint is left out')
  t.equal(inEnglish(`{"code":"unreachable","provider":"${'Z'.repeat(1000)}"}`).length < 200, true, 'a provider name is bounded')

  // A translator that fails: still no throw.
  const broken = (() => {
    throw new Error('catalog missing')
  }) as unknown as typeof enT
  t.doesNotThrow(() => reasonText(broken, '{"code":"timeout","seconds":1}'))
  t.equal(reasonText(broken, '{"code":"timeout","seconds":1}'), '')
})

t.test('what is stored for a failure', async (t) => {
  const classified = new ProviderError('retry', { code: 'server_error', provider: 'Zoom', status: 503 }, { status: 503 })
  t.equal(classified.message, 'Zoom answered with a server error, HTTP 503', 'the message is the English rendering')
  t.equal(storedReason(classified), '{"code":"server_error","provider":"Zoom","status":503}')
  const custom = new ProviderError('retry', 'Zoom answered without a meeting id or join_url', {}, { code: 'incomplete_answer', provider: 'Zoom' })
  t.equal(custom.message, 'Zoom answered without a meeting id or join_url', 'a message of its own stays for the logs')
  t.equal(inDutch(storedReason(custom)), 'Zoom stuurde een onvolledig antwoord', 'users read the reason')
  const plain = new ProviderError('fail', 'this provider has no API')
  t.equal(storedReason(plain), 'this provider has no API', 'no reason: the message, as before')
  const oauth = new OAuthError('unavailable', { code: 'timeout', provider: 'Zoom', seconds: 10 })
  t.equal(oauth.message, 'Zoom did not answer within 10 seconds')
  t.equal(inDutch(storedReason(oauth)), 'Zoom gaf binnen 10 seconden geen antwoord')
  t.equal(inDutch(storedReason('not an error')), 'er ging iets mis in Video Meetings', 'anything else: an internal error, said as such')
  t.ok(storedReason(new ProviderError('retry', { code: 'refused', provider: 'Zoom', status: 400, description: 'x'.repeat(5000) })).length <= 500, 'fits the 500 characters the column keeps')
})
