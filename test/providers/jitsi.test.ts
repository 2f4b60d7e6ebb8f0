import t from 'tap'
import type { ApiClient } from '../../src/providers/contract.js'
import { createJitsiProvider, jitsiProvider, roomName, slugify } from '../../src/providers/jitsi/adapter.js'
import { asForm, futureMeeting } from './helpers.js'

// Jitsi has no API: the adapter must never call one.
const api: ApiClient = {
  request: async () => {
    throw new Error('Jitsi has no API')
  },
}

t.test('no sign-in', async (t) => {
  t.equal(jitsiProvider.oauth, null)
  t.equal(jitsiProvider.id, 'jitsi')
})

t.test('settings', async (t) => {
  const s = jitsiProvider.settings
  t.same(jitsiProvider.settings.defaults(), { serverUrl: 'https://meet.jit.si', roomPattern: '{title}-{random}' })
  t.same(createJitsiProvider('https://jitsi.example.org/').settings.defaults().serverUrl, 'https://jitsi.example.org', 'the default comes from the factory')
  t.same(s.parse(asForm(s.defaults()), 'en').errors, {})
  t.same(s.parse({ serverUrl: ' https://video.example.org/meet/ ', roomPattern: 'acme-{random}' }, 'en'), {
    settings: { serverUrl: 'https://video.example.org/meet', roomPattern: 'acme-{random}' },
    errors: {},
  })

  const serverError = (serverUrl: string | undefined, language: 'en' | 'nl' = 'en') => s.parse({ serverUrl, roomPattern: '{random}' }, language).errors.serverUrl
  t.equal(serverError(undefined), 'Fill in this field.')
  t.match(serverError('http://meet.example.org'), /https address/)
  t.match(serverError('meet.example.org', 'nl'), /https-adres/)
  t.match(serverError('https://meet.example.org/?lang=nl'), /after \? or #/)
  t.match(serverError('https://meet.example.org/#x'), /after \? or #/)
  t.match(serverError('https://user:pw@meet.example.org'), /user name or password/)
  t.match(serverError('javascript:alert(1)'), /https address/)

  const patternError = (roomPattern: string | undefined, language: 'en' | 'nl' = 'en') => s.parse({ serverUrl: 'https://meet.jit.si', roomPattern }, language).errors.roomPattern
  t.equal(patternError(''), 'Fill in this field.')
  t.match(patternError('{title}'), /Include \{random\}/)
  t.match(patternError('vaste-naam', 'nl'), /Neem \{random\} op/)
  t.match(patternError('{title} {random}'), /only letters, digits, hyphens/)
  t.match(patternError('{title}/{random}'), /only letters/)
  t.match(patternError('{date}-{random}'), /placeholders \{title\} and \{random\}/)
  t.match(patternError(`${'a'.repeat(60)}{random}`), /at most 60/)
})

t.test('create builds an unguessable, URL-safe room on the configured server', async (t) => {
  const settings = { serverUrl: 'https://video.example.org/meet', roomPattern: '{title}-{random}' }
  const input = futureMeeting({ title: 'Café Überweg: Q3 review / “plan”' })
  const a = await jitsiProvider.meetings.create(api, input, settings)
  const b = await jitsiProvider.meetings.create(api, input, settings)
  t.match(a.joinUrl, /^https:\/\/video\.example\.org\/meet\/cafe-uberweg-q3-review-plan-[a-z2-7]{16}$/)
  t.equal(a.joinUrl, `https://video.example.org/meet/${a.externalId}`)
  t.not(a.joinUrl, b.joinUrl, 'every meeting gets its own room')
  t.notOk(a.pending)

  const plain = await jitsiProvider.meetings.create(api, futureMeeting({ title: '日本語の会議' }), {})
  t.match(plain.joinUrl, /^https:\/\/meet\.jit\.si\/meeting-[a-z2-7]{16}$/, 'defaults; a title without ASCII becomes "meeting"')

  const long = roomName('{title}-{random}', 'word '.repeat(40))
  t.ok(long.length <= 40 + 1 + 16)
  t.match(long, /^[a-z0-9]+(-[a-z0-9]+)*$/)
  t.equal(slugify('--Hello,   World!--'), 'hello-world')
  t.match(roomName('Team-{random}', 'x'), /^team-[a-z2-7]{16}$/)
})

t.test('80 bits of randomness: no collisions in many rooms', async (t) => {
  const rooms = new Set(Array.from({ length: 5000 }, () => roomName('{random}', '')))
  t.equal(rooms.size, 5000)
})

t.test('update keeps the room, delete does nothing', async (t) => {
  const ref = await jitsiProvider.meetings.create(api, futureMeeting(), {})
  t.same(await jitsiProvider.meetings.update(api, ref, futureMeeting({ title: 'Other' }), {}), ref)
  await jitsiProvider.meetings.delete(api, ref)
  t.pass('delete resolves without calling anything')
})
