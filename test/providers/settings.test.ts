/**
 * Each provider's typed settings on their own: parsing the posted form and reading back what was stored, without
 * Fastify, a fake or a database.
 */
import t from 'tap'
import { parseJitsiSettings, readJitsiSettings, jitsiSettings } from '../../src/providers/jitsi/settings.js'
import { googleMeetSettings } from '../../src/providers/google-meet/settings.js'
import { PROVIDER_IDS, PROVIDER_MODULES, createProviders } from '../../src/providers/registry.js'
import { randomPasscode } from '../../src/providers/settings-helpers.js'
import { parseTeamsSettings, readTeamsSettings, teamsSettings } from '../../src/providers/teams/settings.js'
import { isTenant, TEAMS_REGISTRATION_FIELDS } from '../../src/providers/teams/endpoints.js'
import { parseWebexSettings, readWebexSettings, webexPassword } from '../../src/providers/webex/settings.js'
import { parseZoomSettings, readZoomSettings, zoomPasscode, zoomSettings } from '../../src/providers/zoom/settings.js'
import { parseSandboxSettings, readSandboxSettings, sandboxSettings } from '../../src/sandbox/settings.js'

t.test('Zoom: a valid form gives typed settings, checkboxes absent mean off', async (t) => {
  t.same(parseZoomSettings({ passcode: ' Ab3@x_9* ', waitingRoom: 'true', autoRecording: 'cloud' }, 'en'), {
    settings: { passcode: 'Ab3@x_9*', waitingRoom: true, joinBeforeHost: false, autoRecording: 'cloud' },
    errors: {},
  })
  t.same(parseZoomSettings({ passcode: 'abc123' }, 'en').settings.autoRecording, 'none', 'no recording choice means none')
})

t.test('Zoom: passcode and recording are checked, in the language asked for', async (t) => {
  t.equal(parseZoomSettings({ passcode: '' }, 'en').errors.passcode, 'Fill in this field.')
  t.equal(parseZoomSettings({ passcode: 'abc' }, 'en').errors.passcode, 'Use 6 to 10 characters.')
  t.equal(parseZoomSettings({ passcode: 'abc 123' }, 'nl').errors.passcode, 'Gebruik alleen letters, cijfers en @ - _ * (geen spaties).')
  t.equal(parseZoomSettings({ passcode: 'abc\u0007123' }, 'en').errors.passcode, 'Remove the invisible control characters.')
  t.equal(parseZoomSettings({ passcode: 'abc123', autoRecording: 'tape' }, 'en').errors.autoRecording, 'Choose one of the options.')
})

t.test('Zoom: stored settings read back typed, odd values fall back', async (t) => {
  t.same(readZoomSettings({ passcode: 'abc123', waitingRoom: true, joinBeforeHost: true, autoRecording: 'local' }), {
    passcode: 'abc123',
    waitingRoom: true,
    joinBeforeHost: true,
    autoRecording: 'local',
  })
  t.same(readZoomSettings({ waitingRoom: 'yes', autoRecording: 'tape' }), { passcode: '', waitingRoom: false, joinBeforeHost: false, autoRecording: 'none' })
  const defaults = zoomSettings.defaults()
  t.same(parseZoomSettings(Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, v === true ? 'true' : v === false ? undefined : String(v)])), 'en').errors, {}, 'the defaults pass the form')
  t.match(zoomPasscode(), /^[A-Za-z0-9@\-_*]{10}$/)
})

t.test('Teams: lobby choice and direct link', async (t) => {
  t.same(parseTeamsSettings({ lobbyBypass: 'organizer', preferDirectLink: 'true' }, 'en'), { settings: { lobbyBypass: 'organizer', preferDirectLink: true }, errors: {} })
  t.equal(parseTeamsSettings({ lobbyBypass: 'invited' }, 'nl').errors.lobbyBypass, 'Kies een van de opties.')
  t.same(readTeamsSettings({}), { lobbyBypass: 'organization', preferDirectLink: true }, 'what a fresh connection would have')
  t.same(readTeamsSettings({ lobbyBypass: 'anyone', preferDirectLink: false }), { lobbyBypass: 'organization', preferDirectLink: false })
  t.same(teamsSettings.fields.map((f) => f.name), ['lobbyBypass', 'preferDirectLink'])
})

t.test('Teams: the tenant is a registration field with its default and check', async (t) => {
  const [tenant] = TEAMS_REGISTRATION_FIELDS
  t.equal(tenant?.name, 'tenant')
  t.equal(tenant?.default, 'organizations')
  for (const ok of ['common', 'organizations', 'contoso.onmicrosoft.com', '9188040d-6c67-4c5b-b112-36a304b66dad']) t.ok(isTenant(ok), ok)
  for (const bad of ['not a tenant!', 'contoso', '', 'a/b.c']) t.notOk(isTenant(bad), bad)
  t.equal(tenant?.invalid.en, 'Enter organizations, common, a tenant ID or a domain.')
})

t.test('Webex: password rules', async (t) => {
  t.same(parseWebexSettings({ password: 'Renew2030x', joinBeforeHost: 'on' }, 'en'), { settings: { password: 'Renew2030x', joinBeforeHost: true }, errors: {} })
  t.equal(parseWebexSettings({ password: 'Ab1cdef' }, 'en').errors.password, 'Use 8 to 32 characters.')
  t.equal(parseWebexSettings({ password: 'abcdefgh1' }, 'en').errors.password, 'Use at least one capital letter, one small letter and one digit.')
  t.equal(parseWebexSettings({ password: 'Abc def12' }, 'en').errors.password, 'Leave out spaces and the characters \\ \' " / & < > = [ ].')
  t.same(readWebexSettings({ joinBeforeHost: true }), { password: '', joinBeforeHost: true })
  t.equal(parseWebexSettings({ password: webexPassword() }, 'en').errors.password, undefined, 'a generated password passes')
})

t.test('Jitsi: server address and room pattern', async (t) => {
  t.same(parseJitsiSettings({ serverUrl: ' https://video.example.org/meet/ ', roomPattern: 'acme-{random}' }, 'en'), {
    settings: { serverUrl: 'https://video.example.org/meet', roomPattern: 'acme-{random}' },
    errors: {},
  })
  t.equal(parseJitsiSettings({ serverUrl: 'http://meet.example.org', roomPattern: '{random}' }, 'en').errors.serverUrl, 'Enter the https address of a Jitsi server, e.g. https://meet.jit.si.')
  t.equal(parseJitsiSettings({ serverUrl: 'https://meet.jit.si', roomPattern: '{title}' }, 'en').errors.roomPattern, 'Include {random}: without it people could guess the room name.')
  t.equal(parseJitsiSettings({ serverUrl: 'https://meet.jit.si', roomPattern: `${'a'.repeat(60)}{random}` }, 'nl').errors.roomPattern, 'Gebruik hoogstens 60 tekens.')
  t.same(readJitsiSettings({ serverUrl: 'ftp://x', roomPattern: 'no-random' }, 'https://jitsi.example.org/'), { serverUrl: 'https://jitsi.example.org', roomPattern: '{title}-{random}' })
  t.same(jitsiSettings('https://jitsi.example.org/').defaults(), { serverUrl: 'https://jitsi.example.org', roomPattern: '{title}-{random}' })
})

t.test('Google Meet has no extra settings', async (t) => {
  t.same(googleMeetSettings.fields, [])
  t.same(googleMeetSettings.parse({ anything: 'x' }, 'en'), { settings: {}, errors: {} })
})

t.test('Sandbox: passcode and waiting room', async (t) => {
  t.same(parseSandboxSettings({ passcode: 'Secret42', waitingRoom: 'true' }, 'en'), { settings: { passcode: 'Secret42', waitingRoom: true }, errors: {} })
  t.same(parseSandboxSettings({ passcode: '' }, 'nl').errors, { passcode: 'Vul een toegangscode in.' })
  t.same(readSandboxSettings({ passcode: true }), { passcode: '', waitingRoom: false }, 'a value of another type is as good as none')
  t.match(sandboxSettings.defaults().passcode, /^[A-Za-z0-9]{8}$/)
})

t.test('one passcode generator: every class present, never three alike in a row', async (t) => {
  for (let i = 0; i < 200; i++) {
    const mixed = randomPasscode(10, { special: '@-' })
    t.match(mixed, /[a-z]/)
    t.match(mixed, /[A-Z]/)
    t.match(mixed, /[2-9]/)
    t.match(mixed.slice(1, -1), /[@-]/, 'the special character sits inside')
    t.notMatch(mixed, /(.)\1\1/)
    t.match(randomPasscode(6, { digitsOnly: true }), /^\d{6}$/)
  }
})

t.test('the registry derives the provider ids from its modules', async (t) => {
  t.same(PROVIDER_IDS, ['zoom', 'teams', 'google-meet', 'webex', 'jitsi'])
  t.same(
    createProviders({ jitsiUrl: 'https://meet.jit.si' }).map((p) => p.id),
    PROVIDER_MODULES.map((m) => m.id),
    'each module makes the adapter of its own id',
  )
  t.same(
    PROVIDER_MODULES.filter((m) => m.cloud).map((m) => m.cloud!.envPrefix),
    ['ZOOM', 'TEAMS', 'GOOGLE', 'WEBEX'],
    'the environment prefixes come from the provider folders',
  )
})
