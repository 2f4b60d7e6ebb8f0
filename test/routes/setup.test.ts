import t from 'tap'
import { ADMIN, Client, setUpAdmin, testApp } from '../helpers/app.js'

t.test('a fresh install sends every page to setup', async (t) => {
  const app = await testApp(t)
  for (const url of ['/', '/preferences', '/settings/users', '/sign-in', '/nope']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 303, url)
    t.equal(res.headers.location, '/setup', url)
  }
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'health checks are not redirected')
  const setup = await app.inject({ url: '/setup', headers: { 'accept-language': 'nl-NL,nl;q=0.9' } })
  t.equal(setup.statusCode, 200)
  t.match(setup.body, 'Video Meetings instellen', 'before sign-in, the language comes from Accept-Language')
  t.match(setup.body, '<html lang="nl">')
})

t.test('setup creates the first admin, signs them in, and is gone for good', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const home = await admin.get('/preferences/general')
  t.equal(home.statusCode, 200)
  t.match(home.body, 'Signed in as Ada Admin')
  t.match(home.body, 'Settings and maintenance')
  const user = app.services.users.findByEmailWithHash(ADMIN.email)!
  t.equal(user.role, 'admin')
  t.equal(user.timeZone, 'Europe/Amsterdam')
  t.notMatch(user.passwordHash, ADMIN.password)

  const anonymous = new Client(app)
  t.equal((await anonymous.get('/setup')).statusCode, 404)
  await anonymous.get('/sign-in')
  const again = await anonymous.post('/setup', { ...ADMIN, email: 'mallory@example.com' })
  t.equal(again.statusCode, 404)
  t.equal(app.services.users.count(), 1)
  t.equal(app.services.audit.page(10, 0).entries[0]?.action, 'setup')
})

t.test('concurrent setup requests create exactly one administrator', async (t) => {
  const app = await testApp(t)
  const clients = Array.from({ length: 8 }, () => new Client(app))
  await Promise.all(clients.map((c) => c.get('/setup')))
  const results = await Promise.all(clients.map((c, i) => c.post('/setup', { ...ADMIN, email: `admin${i}@example.com` })))
  const statuses = results.map((r) => r.statusCode).sort()
  t.same(statuses, [303, 404, 404, 404, 404, 404, 404, 404])
  t.equal(app.services.users.count(), 1)
})

t.test('setup validates every field, keeps the input and stores nothing', async (t) => {
  const app = await testApp(t)
  const client = new Client(app)
  await client.get('/setup')
  const res = await client.post('/setup', { name: '', email: 'not-an-email', password: 'short', language: 'fr', timeZone: 'Mars/Olympus' })
  t.equal(res.statusCode, 422)
  t.match(res.body, /id="f-name-error">Fill in this field\./)
  t.match(res.body, /id="f-email-error">Enter a valid email address/)
  t.match(res.body, /id="f-password-error">Use at least 10 characters\./)
  t.match(res.body, 'value="not-an-email"', 'input kept')
  t.notMatch(res.body, 'value="short"', 'passwords are never echoed back')
  t.match(res.body, 'Choose a time zone from the list.')
  t.equal(app.services.users.count(), 0)
})
