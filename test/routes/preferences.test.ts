import t from 'tap'
import { Client, setUpAdmin, testApp } from '../helpers/app.js'

t.test('Preferences needs a signed-in user and has one URL per tab', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  const anonymous = new Client(app)
  const res = await anonymous.get('/preferences/email')
  t.equal(res.statusCode, 303)
  t.equal(res.headers.location, '/sign-in?next=%2Fpreferences%2Femail')

  const tabs: [string, string][] = [['/preferences/general', 'General'], ['/preferences/email', 'Email'], ['/preferences/video-meetings', 'Video meetings']]
  for (const [url, active] of tabs) {
    const page = await admin.get(url)
    t.equal(page.statusCode, 200, url)
    t.match(page.body, `<a href="${url}" aria-current="page">${active}</a>`, `${url} marks its tab`)
  }
  t.equal((await admin.get('/preferences')).headers.location, '/preferences/general')
})

t.test('General: name, language and time zone are saved; the UI switches language', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  await admin.get('/preferences/general')
  const res = await admin.post('/preferences/general', { name: 'Ada L.', language: 'nl', timeZone: 'America/New_York' })
  t.equal(res.statusCode, 303)
  const page = await admin.get('/preferences/general')
  t.match(page.body, '<html lang="nl">')
  t.match(page.body, 'Uw voorkeuren zijn opgeslagen.')
  t.match(page.body, 'Aangemeld als Ada L.')
  t.match(page.body, '<option value="America/New_York" selected>')
  t.match(page.body, 'Videovergaderingen')
})

t.test('General: bad input is refused next to the field, with the input kept', async (t) => {
  const app = await testApp(t)
  const admin = await setUpAdmin(app)
  await admin.get('/preferences/general')
  const res = await admin.post('/preferences/general', { name: 'Ada\r\nBcc: x@example.com', language: 'de', timeZone: 'Nowhere/City' })
  t.equal(res.statusCode, 422)
  t.match(res.body, /id="f-name-error">Remove the control characters/)
  t.match(res.body, /id="f-language-error">Choose one of the options\./)
  t.match(res.body, /id="f-timeZone-error">Choose a time zone from the list\./)
  const dup = await admin.post('/preferences/general', { name: ['A', 'B'], language: 'en', timeZone: 'UTC' })
  t.equal(dup.statusCode, 422)
  t.match(dup.body, 'This field was sent more than once.')
  t.equal(app.services.users.list()[0]!.name, 'Ada Admin', 'nothing saved')
})
