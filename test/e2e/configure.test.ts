// The Configure flow of Settings → Video meetings in a real browser, once with JavaScript (htmx) and once without:
// the status tab opens the Configure screen in a new tab, the admin picks the built-in Sandbox, consents on its
// sign-in page, changes a setting, closes the tab and finds the status tab up to date, then disconnects. A second
// test drives "Choose Zoom" against the Zoom fake, where CSP form-action decides whether the browser may follow
// the redirect to the provider. Every distinct page is checked with axe-core; console errors, CSP violations and
// page errors fail the run, in the first page and in every tab the app opens.
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { ADMIN } from '../helpers/app.js'
import { checkAccessibility, launchBrowser, newPage, startServer, steps } from '../helpers/browser.js'
import { CONFIGURE } from '../helpers/configure.js'
import { startZoomFake } from '../fakes/zoom.js'

const STATUS_TAB = '/settings/video-meetings'
const CONFIGURED = 'Your installation is configured with the following meeting service: Sandbox'
const PROVIDERS = ['Zoom', 'Microsoft Teams', 'Google Meet', 'Webex', 'Jitsi', 'Sandbox']
const WITHOUT_REGISTRATION = ['Zoom', 'Microsoft Teams', 'Google Meet', 'Webex']
const SANDBOX_ACCOUNT = { email: 'ada@sandbox.example', name: 'Ada Sandbox' }

const browser = await launchBrowser(t)

const pathOf = (page: Page) => new URL(page.url()).pathname
const heading = (page: Page) => page.getByRole('heading', { level: 1 })
/** An element's visible text with white space collapsed. */
const text = async (page: Page, selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim()

/** Collects console errors (Chromium reports CSP violations there) and page errors, as the harness's newPage does. */
function collectErrors(page: Page, into: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error') into.push(`console: ${message.text()} (${message.location().url || page.url()})`)
  })
  page.on('pageerror', (error) => into.push(`page error: ${error.message} (${page.url()})`))
}

/**
 * A signed-out page of its own plus the errors of it and of every tab opened from it. Its context closes when the
 * test ends, before the servers started earlier (teardowns run last-in, first-out), so no open browser connection
 * holds up their close.
 */
async function openSession(t: Test, js: boolean): Promise<{ page: Page; errors: () => string[] }> {
  const { page, errors } = await newPage(browser, { javaScriptEnabled: js, locale: 'en-US' })
  t.teardown(() => page.context().close())
  page.setDefaultTimeout(10_000)
  const fromTabs: string[] = []
  page.context().on('page', (tab) => {
    tab.setDefaultTimeout(10_000)
    collectErrors(tab, fromTabs)
  })
  return { page, errors: () => [...errors(), ...fromTabs] }
}

/** Clicks a submit button and checks the status of the POST to `action`; on another status, stops with the page text. */
async function submit(t: Test, page: Page, action: string, expected: number, click: () => Promise<void>): Promise<void> {
  const response = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === action)
  await click()
  const status = (await response).status()
  t.equal(status, expected, `POST ${action} answers ${expected}`)
  if (status !== expected) {
    await page.waitForLoadState()
    throw new Error(`POST ${action} answered ${status}; the page says: ${(await page.locator('main').innerText()).trim()}`)
  }
}

/** The first visit leads to setup; creates the administrator there, who is then signed in. */
async function setUpAdmin(t: Test, page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`)
  t.equal(pathOf(page), '/setup')
  await page.getByLabel('Name', { exact: true }).fill(ADMIN.name)
  await page.getByLabel('Email address').fill(ADMIN.email)
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
  await page.getByLabel('Language').selectOption('en')
  await submit(t, page, '/setup', 303, () => page.getByRole('button', { name: 'Create administrator' }).click())
  await page.waitForURL((u) => u.pathname !== '/setup')
  await page.locator('.who').filter({ hasText: `Signed in as ${ADMIN.name}` }).waitFor()
}

/** Clicks something that opens a new tab (target="_blank") and returns that tab once its page has loaded. */
async function openTab(page: Page, click: () => Promise<void>): Promise<Page> {
  const opened = page.context().waitForEvent('page')
  await click()
  const tab = await opened
  await tab.waitForLoadState()
  return tab
}

/**
 * The harness checks pages without JavaScript in a JavaScript-enabled mirror (axe needs timers), but it knows only
 * the pages newPage made, not a tab the app opened. Such a tab's HTML is shown at its URL in a JavaScript-less page
 * the harness made (its twin), and that page is checked: the same DOM, the same stylesheets.
 */
function accessibilityChecker(js: boolean, first: Page): (t: Test, page: Page, label: string) => Promise<void> {
  if (js) return checkAccessibility
  let twin: Promise<Page> | undefined
  let html = ''
  const openTwin = async () => {
    const { page } = await newPage(browser, { javaScriptEnabled: false })
    await page.route('**/*', (route) =>
      route.request().isNavigationRequest() ? route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }) : route.continue(),
    )
    return page
  }
  return async (t, page, label) => {
    if (page === first) return checkAccessibility(t, page, label)
    twin ??= openTwin()
    const shown = await twin
    html = await page.content()
    await shown.goto(page.url())
    await checkAccessibility(t, shown, label)
  }
}

/** Main menu → Settings and maintenance → the Video meetings tab. */
async function openStatusTab(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings and maintenance' }).click()
  await page.waitForURL((u) => u.pathname === '/settings/users')
  const tabs = page.getByRole('navigation', { name: 'Settings sections' })
  await tabs.getByRole('link', { name: 'Video meetings' }).click()
  await tabs.locator(`a[href="${STATUS_TAB}"][aria-current="page"]`).waitFor()
  await page.waitForURL((u) => u.pathname === STATUS_TAB)
}

const configureLink = (page: Page) => page.getByRole('link', { name: 'Configure (opens in a new tab)' })

/**
 * Brings the status tab back to the front, as when the admin closes the Configure tab. With JavaScript, htmx
 * re-fetches the status panel on focus / visibilitychange; headless Chromium does not always fire those when a
 * tab comes to the front, so a window focus event is dispatched if no refresh started by itself. Without
 * JavaScript, the admin reloads.
 */
async function returnToStatusTab(t: Test, page: Page, js: boolean, expected: string): Promise<void> {
  await page.bringToFront()
  if (!js) {
    await page.reload()
    await page.locator('#video-status').filter({ hasText: expected }).waitFor()
    return
  }
  const isRefresh = (r: { url(): string; method(): string }) => new URL(r.url()).pathname === STATUS_TAB && r.method() === 'GET'
  let request = await page.waitForRequest(isRefresh, { timeout: 1000 }).catch(() => null)
  if (!request) {
    t.comment('no focus or visibilitychange event on bringToFront (headless): dispatching a window focus event')
    const refresh = page.waitForRequest(isRefresh)
    await page.evaluate(() => window.dispatchEvent(new Event('focus')))
    request = await refresh
  }
  const headers = await request.allHeaders()
  t.equal(headers['hx-request'], 'true', 'the panel is refreshed by htmx')
  t.equal(headers['hx-boosted'], undefined, 'a panel refresh, not a boosted navigation')
  await page.locator('#video-status').filter({ hasText: expected }).waitFor()
}

for (const js of [true, false]) {
  t.test(`Configure with the Sandbox, JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const { url } = await startServer(t)
    const { page, errors } = await openSession(t, js)
    const checkA11y = accessibilityChecker(js, page)
    let tab: Page | undefined
    const inTab = () => {
      if (!tab) throw new Error('no Configure tab is open')
      return tab
    }

    const step = steps(t)

    await step('the Video meetings tab says "Not configured" and offers Configure in a new tab', async (t) => {
      await setUpAdmin(t, page, url)
      await openStatusTab(page)
      t.equal(await heading(page).textContent(), 'Settings and maintenance')
      t.equal(await text(page, '#video-status'), 'Not configured')
      const link = configureLink(page)
      t.equal(await link.getAttribute('href'), CONFIGURE)
      t.equal(await link.getAttribute('target'), '_blank')
      t.equal(await link.getAttribute('rel'), 'noopener')
      await checkA11y(t, page, 'status tab: not configured')
    })

    await step('Configure opens a new tab listing the providers', async (t) => {
      tab = await openTab(page, () => configureLink(page).click())
      t.ok(tab !== page, 'a new tab')
      t.equal(pathOf(tab), CONFIGURE)
      t.equal(await tab.evaluate(() => window.opener === null), true, 'rel="noopener": the tab has no window.opener')
      t.equal(pathOf(page), STATUS_TAB, 'the first tab stays where it was')
      t.equal(await heading(tab).textContent(), 'Video meetings')
      const items = tab.locator('li.provider')
      // Each heading's own text, without the Sandbox badge.
      t.same(await items.locator('h2').evaluateAll((hs) => hs.map((h) => h.firstChild?.textContent?.trim())), PROVIDERS)
      t.equal(await items.filter({ hasText: 'Sandbox' }).locator('h2 .badge').textContent(), 'Sandbox', 'the Sandbox is labelled as one')
      for (const name of WITHOUT_REGISTRATION) {
        const item = items.filter({ has: tab.getByRole('heading', { name, exact: true }) })
        t.match(await item.textContent(), `Not set up yet: the app registration at ${name} is missing.`, `${name}: not set up yet`)
        t.match(await item.getByRole('link', { name: `Set up ${name}` }).getAttribute('href'), /^\/settings\/video-meetings\/clients\/[\w-]+$/)
        t.equal(await item.getByRole('button').count(), 0, `${name} cannot be chosen yet`)
      }
      for (const name of ['Jitsi', 'Sandbox']) t.equal(await tab.getByRole('button', { name: `Choose ${name}` }).count(), 1, `${name} can be chosen`)
      await checkA11y(t, tab, 'configure: provider list')
    })

    await step('choosing the Sandbox leads to its consent page', async (t) => {
      const tab = inTab()
      await submit(t, tab, `${CONFIGURE}/sandbox`, 303, () => tab.getByRole('button', { name: 'Choose Sandbox' }).click())
      await tab.waitForURL((u) => u.pathname === '/sandbox/oauth/authorize')
      t.equal(await heading(tab).textContent(), 'Sign in to the Sandbox')
      t.match(await tab.locator('main').textContent(), 'Sandbox — a test provider built into Video Meetings; no real meetings are created.')
      await checkA11y(t, tab, 'sandbox consent page')
    })

    await step('Allow leads back to the configured screen', async (t) => {
      const tab = inTab()
      await tab.getByLabel('Sandbox account email').fill(SANDBOX_ACCOUNT.email)
      await tab.getByLabel('Display name').fill(SANDBOX_ACCOUNT.name)
      await submit(t, tab, '/sandbox/oauth/authorize', 303, () => tab.getByRole('button', { name: 'Allow' }).click())
      await tab.waitForURL((u) => u.pathname === CONFIGURE)
      t.equal(await tab.getByRole('heading', { level: 2 }).first().textContent(), 'Configured configurations')
      t.equal(await text(tab, 'dl.facts'), `Service provider Sandbox Sandbox Logged in as ${SANDBOX_ACCOUNT.name} <${SANDBOX_ACCOUNT.email}>`)
      t.match(await tab.getByRole('status').textContent(), /^Connected to Sandbox\. Logged in as /)
      t.equal(await tab.getByLabel('Meeting passcode').inputValue().then((v) => /^[A-Za-z0-9]{6,10}$/.test(v)), true, 'a generated passcode')
      await checkA11y(t, tab, 'configure: configured')
    })

    await step('an invalid passcode is refused next to the field, the input kept', async (t) => {
      const tab = inTab()
      await tab.getByLabel('Meeting passcode').fill('two words')
      await submit(t, tab, `${CONFIGURE}/settings`, 422, () => tab.getByRole('button', { name: 'Save' }).click())
      const error = tab.locator('#setting-passcode-error')
      await error.waitFor()
      t.equal(await error.textContent(), 'Use 6 to 10 letters or digits, without spaces.')
      const passcode = tab.getByLabel('Meeting passcode')
      t.equal(await passcode.inputValue(), 'two words', 'the input is kept')
      t.equal(await passcode.getAttribute('aria-invalid'), 'true')
      t.match(await passcode.getAttribute('aria-describedby'), 'setting-passcode-error')
      t.equal(await tab.getByRole('alert').textContent(), 'Please correct the fields marked below.')
    })

    await step('Save stores the new passcode and the waiting room', async (t) => {
      const tab = inTab()
      await tab.getByLabel('Meeting passcode').fill('Meet2025')
      await tab.getByLabel('Waiting room: the host lets attendees in').check()
      await submit(t, tab, `${CONFIGURE}/settings`, 303, () => tab.getByRole('button', { name: 'Save' }).click())
      await tab.getByRole('status').filter({ hasText: 'The settings were saved.' }).waitFor()
      t.equal(await tab.getByLabel('Meeting passcode').inputValue(), 'Meet2025')
      t.equal(await tab.getByLabel('Waiting room: the host lets attendees in').isChecked(), true)
      t.equal(await tab.locator('#setting-passcode-error').count(), 0, 'no error left')
    })

    await step(`after closing the tab, the status tab shows the Sandbox${js ? ' without a reload' : ' on reload'}`, async (t) => {
      await inTab().close()
      tab = undefined
      if (js) await page.evaluate(() => Object.assign(window, { stayedOnPage: 'yes' }))
      await returnToStatusTab(t, page, js, CONFIGURED)
      t.equal(await text(page, '#video-status'), `${CONFIGURED} Logged in as ${SANDBOX_ACCOUNT.email}`)
      if (js) t.equal(await page.evaluate(() => (window as unknown as { stayedOnPage?: string }).stayedOnPage), 'yes', 'no full navigation')
      await checkA11y(t, page, 'status tab: configured')
    })

    await step(`Disconnect ${js ? 'asks in a dialog' : 'asks on a confirmation page'} and brings the provider list back`, async (t) => {
      const tab = await openTab(page, () => configureLink(page).click())
      await tab.getByRole('heading', { name: 'Configured configurations' }).waitFor()
      if (js) {
        t.equal(await tab.getByRole('link', { name: 'Disconnect' }).count(), 0, 'the confirmation-page link is hidden')
        let question = ''
        tab.once('dialog', (dialog) => {
          question = `${dialog.type()}: ${dialog.message()}`
          void dialog.accept()
        })
        await submit(t, tab, '/settings/video-meetings/disconnect', 303, () => tab.getByRole('button', { name: 'Disconnect' }).click())
        t.equal(question, 'confirm: Disconnect Sandbox? Users can no longer create meetings with it.', 'a confirm dialog (hx-confirm)')
      } else {
        await tab.getByRole('link', { name: 'Disconnect' }).click()
        await tab.waitForURL((u) => u.pathname === '/settings/video-meetings/disconnect')
        t.equal(await heading(tab).textContent(), 'Disconnect Sandbox?')
        await checkA11y(t, tab, 'disconnect confirmation')
        await submit(t, tab, '/settings/video-meetings/disconnect', 303, () => tab.getByRole('button', { name: 'Disconnect' }).click())
      }
      await tab.getByRole('status').filter({ hasText: 'Sandbox was disconnected.' }).waitFor()
      t.equal(pathOf(tab), CONFIGURE)
      t.equal(await tab.getByRole('button', { name: 'Choose Sandbox' }).count(), 1, 'the provider list is back')
      t.equal(await tab.getByRole('heading', { name: 'Configured configurations' }).count(), 0)

      await tab.getByRole('link', { name: 'Set up Zoom' }).click()
      await tab.waitForURL((u) => u.pathname === '/settings/video-meetings/clients/zoom')
      t.equal(await heading(tab).textContent(), 'App registration for Zoom')
      await checkA11y(t, tab, 'Zoom app registration')
      await tab.close()

      await returnToStatusTab(t, page, js, 'Not configured')
      t.equal(await text(page, '#video-status'), 'Not configured')
    })

    // The one expected error: Chromium logs every 4xx response, and a refused passcode is a 422.
    const refused = `console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity) (${url}${CONFIGURE}/settings)`
    const unexpected = errors()
    if (unexpected.includes(refused)) unexpected.splice(unexpected.indexOf(refused), 1)
    t.same(unexpected, [], 'no console errors, CSP violations or page errors')
  })
}

/** Chrome applies CSP form-action to the redirect after a form POST: "Choose Zoom" works only if the policy lists Zoom. */
for (const js of [true, false]) {
  t.test(`Choose Zoom passes CSP form-action, JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const fake = await startZoomFake()
    t.teardown(() => fake.close())
    const { url } = await startServer(t, fake.env)
    const { page, errors } = await openSession(t, js)
    await setUpAdmin(t, page, url)
    await page.goto(`${url}${CONFIGURE}`)

    const toProvider = page.waitForRequest((r) => r.url().startsWith(`${fake.url}/oauth/authorize?`))
    const backFromProvider = page.waitForRequest((r) => r.url().startsWith(`${url}/oauth/zoom/callback?`))
    await submit(t, page, `${CONFIGURE}/zoom`, 303, () => page.getByRole('button', { name: 'Choose Zoom' }).click())
    await toProvider
    await backFromProvider
    await page.getByRole('heading', { name: 'Configured configurations' }).waitFor()
    t.match(await text(page, 'dl.facts'), /^Service provider Zoom Logged in as /)
    t.match(await text(page, 'dl.facts'), String(fake.user.email))
    t.match(await page.getByRole('status').textContent(), `Connected to Zoom. Logged in as`)
    t.equal(fake.count('token', 'POST'), 1, 'the code was redeemed')
    t.same(errors(), [], 'no CSP violation, no console errors')
  })
}
