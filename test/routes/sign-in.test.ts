import t from 'tap'
import { ADMIN, Client, setUpAdmin, testApp } from '../helpers/app.js'

const SESSION = 'vm_session'

t.test('sign-in: a wrong password and an unknown email get the same answer', async (t) => {
  const app = await testApp(t)
  await setUpAdmin(app)
  const client = new Client(app)
  await client.get('/sign-in')
  const wrong = await client.post('/sign-in', { email: ADMIN.email, password: 'not the password' })
  const unknown = await client.post('/sign-in', { email: 'nobody@example.com', password: 'not the password' })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.match(wrong.body, 'The email address or password is incorrect.')
  t.equal(wrong.body.replace(/value="[^"]*"/g, ''), unknown.body.replace(/value="[^"]*"/g, ''), 'no hint whether the email exists')
})

t.test('sign-in changes the session id; sign-out destroys the session on the server', async (t) => {
  const app = await testApp(t)
  await setUpAdmin(app)
  const client = new Client(app)
  await client.get('/sign-in')
  const before = client.cookies.get(SESSION)
  t.ok(before, 'an anonymous session holds the CSRF token')
  const res = await client.post('/sign-in', { email: ADMIN.email.toUpperCase(), password: ADMIN.password, next: '/settings/users' })
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/settings/users')
  const after = client.cookies.get(SESSION)
  t.not(after, before, 'new session id at sign-in (no fixation)')
  const cookie = String(res.headers['set-cookie'])
  t.match(cookie, /HttpOnly/)
  t.match(cookie, /SameSite=Lax/)
  t.notMatch(cookie, /Secure/, 'not Secure over plain http')

  // The old anonymous id is worthless now.
  const stale = await app.inject({ url: '/preferences/general', cookies: { [SESSION]: before! } })
  t.equal(stale.statusCode, 303)

  await client.get('/preferences/general')
  const out = await client.post('/sign-out')
  t.equal(out.statusCode, 303)
  t.equal(out.headers.location, '/sign-in')
  const replay = await app.inject({ url: '/preferences/general', cookies: { [SESSION]: after! } })
  t.equal(replay.statusCode, 303, 'the signed-out session id no longer works')
  t.match(replay.headers.location, /^\/sign-in/)
  t.match((await client.get('/sign-in')).body, 'You have been signed out.')
})

t.test('sign-in only follows local next= paths', async (t) => {
  const app = await testApp(t)
  await setUpAdmin(app)
  for (const next of ['https://evil.example', '//evil.example', '/\\evil.example', 'javascript:alert(1)']) {
    const client = new Client(app)
    await client.get('/sign-in')
    const res = await client.post('/sign-in', { email: ADMIN.email, password: ADMIN.password, next })
    t.equal(res.headers.location, '/', next)
  }
})

t.test('repeated failures are rate-limited per account, without revealing which accounts exist', async (t) => {
  const app = await testApp(t)
  await setUpAdmin(app)
  for (const email of [ADMIN.email, 'ghost@example.com']) {
    const client = new Client(app)
    await client.get('/sign-in')
    for (let i = 0; i < 5; i++) t.equal((await client.post('/sign-in', { email, password: 'wrong password' })).statusCode, 401)
    const limited = await client.post('/sign-in', { email, password: email === ADMIN.email ? ADMIN.password : 'x' })
    t.equal(limited.statusCode, 429, `${email} is limited, even with the right password`)
    t.match(limited.body, /Too many sign-in attempts\. Try again in \d+ minutes\./)
    t.ok(limited.headers['retry-after'])
  }
})

t.test('repeated failures are rate-limited per address across accounts', async (t) => {
  const app = await testApp(t)
  await setUpAdmin(app)
  const client = new Client(app)
  await client.get('/sign-in')
  for (let i = 0; i < 30; i++) await client.post('/sign-in', { email: `spray${i}@example.com`, password: 'wrong password' })
  t.equal((await client.post('/sign-in', { email: ADMIN.email, password: ADMIN.password })).statusCode, 429)
})

t.test('a deactivated user is signed out at once and cannot sign in', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const { addUser } = await import('../helpers/app.js')
  const bob = await addUser(app, admin, { name: 'Bob', email: 'bob@example.com', password: 'bobs password!' })
  t.equal((await bob.get('/preferences/general')).statusCode, 200)
  const id = app.services.users.findByEmailWithHash('bob@example.com')!.id
  t.equal((await admin.submit(`/settings/users/${id}`, `/settings/users/${id}/active`, { active: 'false' })).statusCode, 303)
  t.equal((await bob.get('/preferences/general')).statusCode, 303)
  const again = new Client(app)
  await again.get('/sign-in')
  t.equal((await again.post('/sign-in', { email: 'bob@example.com', password: 'bobs password!' })).statusCode, 401)
})
