import t from 'tap'
import { en } from '../../src/i18n/en.js'
import { nl } from '../../src/i18n/nl.js'
import { languageFromHeader, translator } from '../../src/i18n/index.js'

t.test('Dutch has every English key, with the same placeholders', async (t) => {
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    t.ok(nl[key], key)
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    t.same(placeholders(nl[key]), placeholders(en[key]), key)
  }
})

t.test('the product words match the ones users know', async (t) => {
  const nlT = translator('nl')
  t.equal(nlT('nav.preferences'), 'Voorkeuren')
  t.equal(nlT('nav.settings'), 'Instellingen en onderhoud')
  t.equal(nlT('preferences.videoMeetings'), 'Videovergaderingen')
  t.equal(translator('en')('nav.signedInAs', { name: 'Ada' }), 'Signed in as Ada')
})

t.test('Accept-Language picks the best supported language', async (t) => {
  t.equal(languageFromHeader(undefined), 'en')
  t.equal(languageFromHeader('nl-NL,nl;q=0.9,en;q=0.8'), 'nl')
  t.equal(languageFromHeader('de-DE,de;q=0.9,nl;q=0.5,en;q=0.4'), 'nl')
  t.equal(languageFromHeader('de,fr'), 'en')
  t.equal(languageFromHeader('en;q=0.1, nl;q=0.2'), 'nl')
  t.equal(languageFromHeader('nl;q=0'), 'en')
})
