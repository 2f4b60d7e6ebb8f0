// The foundation in a real browser, once with JavaScript (htmx-boosted navigation) and once without (plain
// links and forms): setup → preferences → language → settings → sign out → sign in. Every distinct page is
// checked with axe-core (the Dutch ones also for English catalog strings left over), and any console error, CSP
// violation or page error fails the run.
import t from 'tap'
import { ADMIN } from '../helpers/app.js'
import { checkAccessibility, launchBrowser, newPage, startServer, steps } from '../helpers/browser.js'
import {
  checkDutchScreen,
  createAdmin,
  englishLeaks,
  follow,
  heading,
  mainMenu,
  startSession,
  pathOf,
  sendSignIn,
  signIn,
  signOut,
  submit,
} from '../helpers/e2e-steps.js'

const SCREENSHOT = '/tmp/vm-preferences.png'
const HTMX_URL = /^\/assets\/[\w-]+\/vendor\/htmx\.min\.js$/

const browser = await launchBrowser(t)

for (const js of [true, false]) {
  t.test(`JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const { url, page, errors } = await startSession(t, browser, js)
    const htmx = js ? page.waitForResponse((r) => HTMX_URL.test(new URL(r.url()).pathname)) : undefined

    const step = steps(t)

    await step('the first visit leads to setup', async (t) => {
      await page.goto(`${url}/`)
      t.equal(pathOf(page), '/setup')
      t.equal(await heading(page).textContent(), 'Set up Video Meetings')
      if (js) {
        t.equal((await htmx!).status(), 200, 'htmx loads from the hashed assets URL')
        t.equal(await page.evaluate('typeof window.htmx'), 'object', 'htmx runs')
      }
      await checkAccessibility(t, page, 'setup')
    })

    await step('setup creates the administrator and signs them in', async (t) => {
      await createAdmin(t, page)
      await page.waitForURL((u) => u.pathname === '/preferences/general')
      t.equal(await heading(page).textContent(), 'Preferences')
      t.equal(await page.getByRole('status').textContent(), 'The administrator was created. Welcome!')
      t.equal(await page.locator('.who').textContent(), `Signed in as ${ADMIN.name}`)
    })

    await step('the Preferences tabs are links, each to its own page', async (t) => {
      const tabs = page.getByRole('navigation', { name: 'Preference sections' })
      const current = tabs.locator('a[aria-current="page"]')
      const all = [
        { name: 'General', path: '/preferences/general' },
        { name: 'Email', path: '/preferences/email' },
        { name: 'Video meetings', path: '/preferences/video-meetings' },
      ]
      for (const tab of all) t.equal(await tabs.getByRole('link', { name: tab.name, exact: true }).getAttribute('href'), tab.path)
      t.same(await current.allTextContents(), ['General'], 'General is the current tab')
      if (js) await page.screenshot({ path: SCREENSHOT, fullPage: true })
      await checkAccessibility(t, page, 'preferences: general')

      for (const tab of [all[1]!, all[2]!, all[0]!]) {
        const headers = await follow(page, () => tabs.getByRole('link', { name: tab.name, exact: true }).click(), tab.path, tab.path)
        t.equal(headers['hx-request'], js ? 'true' : undefined, `${tab.name}: ${js ? 'an htmx request' : 'a plain request'}`)
        if (js) t.equal(headers['hx-boosted'], 'true', `${tab.name}: boosted`)
        await tabs.locator(`a[href="${tab.path}"][aria-current="page"]`).waitFor()
        t.same(await current.allTextContents(), [tab.name], `${tab.name} is the current tab`)
        t.equal(await heading(page).textContent(), 'Preferences')
        t.equal(await page.title(), `${tab.name} · Video Meetings`)
        if (tab.name !== 'General') await checkAccessibility(t, page, `preferences: ${tab.name}`)
      }
    })

    await step('switching the language to Nederlands', async (t) => {
      t.ok((await englishLeaks(page)).includes('preferences.title: Preferences'), 'the check for English sees the English page')
      await page.getByLabel('Language').selectOption('nl')
      await submit(t, page, '/preferences/general', 303, () => page.getByRole('button', { name: 'Save' }).click())
      await heading(page).filter({ hasText: 'Voorkeuren' }).waitFor()
      t.equal(pathOf(page), '/preferences/general')
      t.equal(await page.getByRole('status').textContent(), 'Uw voorkeuren zijn opgeslagen.')
      const tabs = page.getByRole('navigation', { name: 'Onderdelen van de voorkeuren' })
      t.same(await tabs.getByRole('link').allTextContents(), ['Algemeen', 'E-mail', 'Videovergaderingen'])
      t.equal(await page.getByLabel('Taal').inputValue(), 'nl')
      t.equal(await page.locator('html').getAttribute('lang'), 'nl', '<html lang="nl">')
      t.same(await englishLeaks(page), [], 'no English screen text left')
    })

    await step('Settings and maintenance lists the administrator', async (t) => {
      await follow(page, () => mainMenu(page, 'Instellingen en onderhoud', 'nl').click(), '/settings/users')
      await heading(page).filter({ hasText: 'Instellingen en onderhoud' }).waitFor()
      t.equal(await heading(page).textContent(), 'Instellingen en onderhoud')
      const tabs = page.getByRole('navigation', { name: 'Onderdelen van de instellingen' })
      t.same(await tabs.locator('a[aria-current="page"]').allTextContents(), ['Gebruikers'])
      const row = page.getByRole('row').filter({ hasText: ADMIN.email })
      t.equal(await row.count(), 1, 'one row for the administrator')
      t.match(await row.textContent(), new RegExp(`${ADMIN.name}.*Beheerder.*Actief`, 's'))
      await checkDutchScreen(t, page, 'settings: users')

      await follow(page, () => tabs.getByRole('link', { name: 'Videovergaderingen' }).click(), '/settings/video-meetings')
      await tabs.locator('a[href="/settings/video-meetings"][aria-current="page"]').waitFor()
      t.equal(await heading(page).textContent(), 'Instellingen en onderhoud', 'the whole page, not only its partial')
      await checkDutchScreen(t, page, 'settings: video meetings')

      await follow(page, () => tabs.getByRole('link', { name: 'Auditlogboek' }).click(), '/settings/audit-log')
      await tabs.locator('a[href="/settings/audit-log"][aria-current="page"]').waitFor()
      t.match(await page.getByRole('table').textContent(), /Installatie ingesteld/)
      await checkDutchScreen(t, page, 'settings: audit log')
    })

    await step('signing out leads to the sign-in page', async (t) => {
      await signOut(t, page, 'nl')
      await heading(page).filter({ hasText: 'Sign in' }).waitFor()
      t.equal(await page.getByRole('status').textContent(), 'U bent afgemeld.', 'the goodbye in the language of who signed out')
      t.equal(await page.getByRole('button', { name: 'Afmelden' }).count(), 0, 'no longer signed in')
      await checkAccessibility(t, page, 'sign-in')
    })

    await step('a wrong password is refused', async (t) => {
      await sendSignIn(t, page, { email: ADMIN.email, password: 'not the password' }, 401)
      await page.getByRole('alert').filter({ hasText: 'The email address or password is incorrect.' }).waitFor()
      t.equal(pathOf(page), '/sign-in')
      t.equal(await page.getByLabel('Email address').inputValue(), ADMIN.email, 'the email address is kept')
      await checkAccessibility(t, page, 'sign-in with an error')
    })

    await step('the right password signs in', async (t) => {
      await signIn(t, page, ADMIN, 'nl')
      await page.waitForURL((u) => u.pathname === '/follow-ups')
      await heading(page).filter({ hasText: 'Vervolgacties' }).waitFor()
      t.equal(await page.locator('.who').textContent(), `Aangemeld als ${ADMIN.name}`)
    })

    // The one expected error: Chromium logs every 4xx response, and a refused sign-in is a 401.
    const refused = `console: Failed to load resource: the server responded with a status of 401 (Unauthorized) (${url}/sign-in)`
    const unexpected = errors()
    if (unexpected.includes(refused)) unexpected.splice(unexpected.indexOf(refused), 1)
    t.same(unexpected, [], 'no console errors, CSP violations or page errors')
  })
}

// Guards the guard: a CSP violation must reach the error list, or the check above proves nothing.
t.test('CSP violations are reported as errors', async (t) => {
  const { url } = await startServer(t)
  const { page, errors } = await newPage(browser, { javaScriptEnabled: true })
  await page.goto(`${url}/setup`)
  t.same(errors(), [])
  await page.evaluate(`document.head.append(Object.assign(document.createElement('script'), { textContent: '1' }))`)
  const deadline = Date.now() + 5000
  while (errors().length === 0 && Date.now() < deadline) await page.waitForTimeout(50)
  t.match(errors(), [/Content Security Policy/], 'the inline script was blocked and reported')
})
