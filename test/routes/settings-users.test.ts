import t from 'tap'
import { addUser, Client, setUpAdmin, testApp } from '../helpers/app.js'

t.test('Settings and maintenance is for administrators only', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const bob = await addUser(app, admin, { name: 'Bob', email: 'bob@example.com' })
  for (const url of ['/settings/users', '/settings/video-meetings', '/settings/audit-log', '/settings/users/1']) {
    const res = await bob.get(url)
    t.equal(res.statusCode, 403, url)
    t.match(res.body, 'Access denied')
  }
  await bob.get('/preferences/general')
  const post = await bob.post('/settings/users', { name: 'Eve', email: 'eve@example.com', password: 'long enough pw', role: 'admin', language: 'en' })
  t.equal(post.statusCode, 403)
  t.equal(app.services.users.count(), 2, 'nothing created')
  t.notMatch((await bob.get('/preferences/general')).body, 'href="/settings"', 'no link to what they cannot open')
})

t.test('an admin lists, creates, promotes, resets and deactivates users; audited', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const created = await admin.submit('/settings/users', '/settings/users', { name: 'Carol', email: 'Carol@Example.com', password: 'carols password', role: 'user', language: 'nl' })
  t.equal(created.statusCode, 303)
  const list = await admin.get('/settings/users')
  t.match(list.body, 'The user Carol was added.')
  t.match(list.body, 'carol@example.com')
  const carol = app.services.users.findByEmailWithHash('carol@example.com')!
  t.equal(carol.language, 'nl')

  t.equal((await admin.submit(`/settings/users/${carol.id}`, `/settings/users/${carol.id}/role`, { role: 'admin' })).statusCode, 303)
  t.equal(app.services.users.findById(carol.id)!.role, 'admin')

  const carolClient = new Client(app)
  await carolClient.submit('/sign-in', '/sign-in', { email: 'carol@example.com', password: 'carols password' })
  t.equal((await carolClient.get('/settings/users')).statusCode, 200, 'promoted user is admin now')
  t.equal((await admin.submit(`/settings/users/${carol.id}`, `/settings/users/${carol.id}/password`, { password: 'a brand new password' })).statusCode, 303)
  t.equal((await carolClient.get('/settings/users')).statusCode, 303, 'a password reset signs the user out everywhere')
  const again = new Client(app)
  await again.get('/sign-in')
  t.equal((await again.post('/sign-in', { email: 'carol@example.com', password: 'carols password' })).statusCode, 401)
  t.equal((await again.post('/sign-in', { email: 'carol@example.com', password: 'a brand new password' })).statusCode, 303)

  t.equal((await admin.submit(`/settings/users/${carol.id}`, `/settings/users/${carol.id}/active`, { active: 'false' })).statusCode, 303)
  t.equal(app.services.users.findById(carol.id)!.active, false)
  const actions = app.services.audit.page(20, 0).entries.map((e) => e.action)
  t.same(actions, ['user.deactivate', 'user.password', 'user.role', 'user.create', 'setup'])
  const log = await admin.get('/settings/audit-log')
  t.match(log.body, 'Deactivated a user')
  t.match(log.body, 'Ada Admin')
})

t.test('creating a user: validation errors next to the fields, duplicates refused', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  await admin.get('/settings/users')
  const bad = await admin.post('/settings/users', { name: 'x'.repeat(101), email: 'bad', password: '123', role: 'root', language: 'en' })
  t.equal(bad.statusCode, 422)
  t.match(bad.body, 'Use at most 100 characters.')
  t.match(bad.body, 'Enter a valid email address')
  t.match(bad.body, 'Use at least 10 characters.')
  t.match(bad.body, 'Choose one of the options.')
  const dup = await admin.post('/settings/users', { name: 'Ada 2', email: 'ADA@example.com', password: 'long enough pw', role: 'user', language: 'en' })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'A user with this email address already exists.')
  t.equal(app.services.users.count(), 1)
})

t.test('the last administrator cannot be demoted or deactivated', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const id = app.services.users.list()[0]!.id
  const demote = await admin.submit(`/settings/users/${id}`, `/settings/users/${id}/role`, { role: 'user' })
  t.equal(demote.statusCode, 409)
  t.match(demote.body, 'This is the last active administrator')
  const deactivate = await admin.post(`/settings/users/${id}/active`, { active: 'false' })
  t.equal(deactivate.statusCode, 409)
  t.equal(app.services.users.findById(id)!.role, 'admin')
  t.equal(app.services.users.findById(id)!.active, true)
  t.equal((await admin.get('/settings/users/999')).statusCode, 404)
  t.equal((await admin.get('/settings/users/abc')).statusCode, 404)
})

t.test('the audit log is paged, newest first', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  for (let i = 0; i < 60; i++) app.services.audit.record({ id: null, name: 'script' }, 'user.create', `u${i}@example.com`)
  const first = await admin.get('/settings/audit-log')
  t.match(first.body, 'u59@example.com')
  t.notMatch(first.body, 'u5@example.com<')
  t.match(first.body, 'Page 1 of 2')
  const second = await admin.get('/settings/audit-log?page=2')
  t.match(second.body, 'u5@example.com')
  t.match(second.body, 'Set up the installation')
  t.equal((await admin.get('/settings/audit-log?page=99')).statusCode, 200)
})
