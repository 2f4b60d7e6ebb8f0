// The Configure flow of Settings → Video meetings in a real browser, once with JavaScript (htmx) and once without:
// the status tab opens the Configure screen in a new tab, the admin picks the built-in Sandbox, consents on its
// sign-in page, changes a setting, closes the tab and finds the status tab up to date, then disconnects. A second
// test drives "Choose Zoom" against the Zoom fake, where CSP form-action decides whether the browser may follow
// the redirect to the provider. Every distinct page is checked with axe-core; console errors, CSP violations and
// page errors fail the run, in the first page and in every tab the app opens. A Dutch pass (with JavaScript) goes
// through the same screens in Dutch and checks their words against the catalog, and that no English shows.
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { checkAccessibility, launchBrowser, newPage, steps } from '../helpers/browser.js'
import { CONFIGURE } from '../helpers/configure.js'
import {
  ADMIN_SANDBOX,
  STATUS_TAB,
  asShown,
  checkDutchScreen,
  chooseSandbox,
  configureLink,
  createAdmin,
  heading,
  startSession as startSessionWith,
  openStatusTab,
  openTab,
  pathOf,
  setUpAdmin,
  submit,
  allowAtSandbox,
  text,
  words,
  type Language,
} from '../helpers/e2e-steps.js'
import { createSandboxProvider } from '../../src/sandbox/adapter.js'
import { startZoomFake } from '../fakes/zoom.js'

const CONFIGURED = 'Your installation is configured with the following meeting service: Sandbox'
const PROVIDERS = ['Zoom', 'Microsoft Teams', 'Google Meet', 'Webex', 'Jitsi', 'Sandbox']
const WITHOUT_REGISTRATION = ['Zoom', 'Microsoft Teams', 'Google Meet', 'Webex']
/** The Sandbox's own words (its note and its settings' labels), in both languages. */
const SANDBOX = createSandboxProvider('')
const settingField = (name: string) => SANDBOX.settings.fields.find((field) => field.name === name)!
const PASSCODE = settingField('passcode')
const WAITING_ROOM = settingField('waitingRoom')

const browser = await launchBrowser(t)
const startSession = (t: Test, js: boolean, options?: { language?: Language; env?: Record<string, string> }) => startSessionWith(t, browser, js, options)

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

/** The Configure tab the steps of a test share: a step that needs it while none is open stops with a reason. */
function configureTab(): { opened: (tab: Page) => Page; tab: () => Page; close: () => Promise<void> } {
  let open: Page | undefined
  const tab = () => {
    if (!open) throw new Error('no Configure tab is open')
    return open
  }
  return {
    opened: (opened) => (open = opened),
    tab,
    close: async () => {
      await tab().close()
      open = undefined
    },
  }
}

/** With JavaScript: Disconnect asks in a confirm dialog (hx-confirm), which is accepted; returns its question. */
async function disconnectInDialog(t: Test, tab: Page, language: Language = 'en'): Promise<string> {
  let question = ''
  tab.once('dialog', (dialog) => {
    question = `${dialog.type()}: ${dialog.message()}`
    void dialog.accept()
  })
  const disconnect = tab.getByRole('button', { name: words(language).t('video.disconnect') })
  await submit(t, tab, '/settings/video-meetings/disconnect', 303, () => disconnect.click())
  return question
}

for (const js of [true, false]) {
  t.test(`Configure with the Sandbox, JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const { url, page, errors } = await startSession(t, js)
    const checkA11y = accessibilityChecker(js, page)
    const configure = configureTab()
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
      const tab = configure.opened(await openTab(page, () => configureLink(page).click()))
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
      const tab = configure.tab()
      await chooseSandbox(t, tab)
      t.equal(await heading(tab).textContent(), 'Sign in to the Sandbox')
      t.match(await tab.locator('main').textContent(), 'Sandbox — a test provider built into Video Meetings; no real meetings are created.')
      await checkA11y(t, tab, 'sandbox consent page')
    })

    await step('Allow leads back to the configured screen', async (t) => {
      const tab = configure.tab()
      await allowAtSandbox(t, tab, ADMIN_SANDBOX)
      await tab.waitForURL((u) => u.pathname === CONFIGURE)
      t.equal(await tab.getByRole('heading', { level: 2 }).first().textContent(), 'Configured configurations')
      t.equal(await text(tab, 'dl.facts'), `Service provider Sandbox Sandbox Logged in as ${ADMIN_SANDBOX.name} <${ADMIN_SANDBOX.email}>`)
      t.match(await tab.getByRole('status').textContent(), /^Connected to Sandbox\. Logged in as /)
      t.equal(await tab.getByLabel('Meeting passcode').inputValue().then((v) => /^[A-Za-z0-9]{6,10}$/.test(v)), true, 'a generated passcode')
      await checkA11y(t, tab, 'configure: configured')
    })

    await step('an invalid passcode is refused next to the field, the input kept', async (t) => {
      const tab = configure.tab()
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
      const tab = configure.tab()
      await tab.getByLabel('Meeting passcode').fill('Meet2025')
      await tab.getByLabel('Waiting room: the host lets attendees in').check()
      await submit(t, tab, `${CONFIGURE}/settings`, 303, () => tab.getByRole('button', { name: 'Save' }).click())
      await tab.getByRole('status').filter({ hasText: 'The settings were saved.' }).waitFor()
      t.equal(await tab.getByLabel('Meeting passcode').inputValue(), 'Meet2025')
      t.equal(await tab.getByLabel('Waiting room: the host lets attendees in').isChecked(), true)
      t.equal(await tab.locator('#setting-passcode-error').count(), 0, 'no error left')
    })

    await step(`after closing the tab, the status tab shows the Sandbox${js ? ' without a reload' : ' on reload'}`, async (t) => {
      await configure.close()
      if (js) await page.evaluate(() => Object.assign(window, { stayedOnPage: 'yes' }))
      await returnToStatusTab(t, page, js, CONFIGURED)
      t.equal(await text(page, '#video-status'), `${CONFIGURED} Logged in as ${ADMIN_SANDBOX.email}`)
      if (js) t.equal(await page.evaluate(() => (window as unknown as { stayedOnPage?: string }).stayedOnPage), 'yes', 'no full navigation')
      await checkA11y(t, page, 'status tab: configured')
    })

    await step(`Disconnect ${js ? 'asks in a dialog' : 'asks on a confirmation page'} and brings the provider list back`, async (t) => {
      const tab = await openTab(page, () => configureLink(page).click())
      await tab.getByRole('heading', { name: 'Configured configurations' }).waitFor()
      if (js) {
        t.equal(await tab.getByRole('link', { name: 'Disconnect' }).count(), 0, 'the confirmation-page link is hidden')
        const question = await disconnectInDialog(t, tab)
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

/**
 * The same flow for an administrator who speaks Dutch (setup in a browser asking for nl), with JavaScript: every
 * screen word is the Dutch catalog's (src/i18n/nl.ts, the Sandbox's own texts), no English catalog string shows,
 * and each screen passes the accessibility check.
 */
t.test('Configure with the Sandbox in Dutch, JavaScript enabled', async (t) => {
  const { url, page, errors } = await startSession(t, true, { language: 'nl' })
  const { t: say, s } = words('nl')
  const sandbox = { provider: 'Sandbox' }
  const configure = configureTab()
  const step = steps(t)

  await step('setup in Dutch; Videovergaderingen says "Niet geconfigureerd" and offers Configureren', async (t) => {
    await page.goto(`${url}/`)
    t.equal(await heading(page).textContent(), say('setup.title'), 'Accept-Language nl: the setup page is Dutch')
    await createAdmin(t, page, 'nl')
    await openStatusTab(page, 'nl')
    t.equal(await heading(page).textContent(), say('settings.title'))
    t.equal(await text(page, '#video-status'), say('settingsVideo.notConfigured'))
    t.equal(await configureLink(page, 'nl').getAttribute('target'), '_blank', `${say('video.configure')} ${say('video.configure.opensTab')}`)
    await checkDutchScreen(t, page, 'status tab: not configured')
  })

  await step('Configureren opens the provider list in Dutch', async (t) => {
    const tab = configure.opened(await openTab(page, () => configureLink(page, 'nl').click()))
    t.equal(pathOf(tab), CONFIGURE)
    t.equal(await heading(tab).textContent(), say('video.configure.title'))
    const main = await text(tab, 'main')
    for (const shown of [say('video.configure.intro'), SANDBOX.note!.nl, say('video.configure.closeTab')]) t.match(main, shown)
    for (const provider of WITHOUT_REGISTRATION) {
      t.match(main, say('video.configure.notSetUp', { provider }), `${provider}: not set up yet`)
      t.equal(await tab.getByRole('link', { name: say('video.configure.setUp', { provider }) }).count(), 1)
    }
    for (const provider of ['Jitsi', 'Sandbox']) t.equal(await tab.getByRole('button', { name: say('video.configure.choose', { provider }) }).count(), 1)
    await checkDutchScreen(t, tab, 'configure: provider list')
  })

  await step('Sandbox kiezen leads to its consent page in Dutch', async (t) => {
    const tab = configure.tab()
    await chooseSandbox(t, tab, 'nl')
    t.equal(await heading(tab).textContent(), s.authorizeTitle)
    t.match(await text(tab, 'main'), s.banner)
    t.equal(await tab.getByRole('button', { name: s.deny }).count(), 1)
    await checkDutchScreen(t, tab, 'sandbox consent page')
  })

  await step('Toestaan leads back to the configured screen with Opslaan and Verbinding verbreken', async (t) => {
    const tab = configure.tab()
    await allowAtSandbox(t, tab, ADMIN_SANDBOX, 'nl')
    await tab.waitForURL((u) => u.pathname === CONFIGURE)
    t.equal(await tab.getByRole('heading', { level: 2 }).first().textContent(), say('video.configured.heading'))
    t.equal(
      await text(tab, 'dl.facts'),
      `${say('video.configured.provider')} Sandbox ${SANDBOX.badge!.nl} ${say('video.configured.loggedInAs')} ${ADMIN_SANDBOX.name} <${ADMIN_SANDBOX.email}>`,
    )
    t.match(await tab.getByRole('status').textContent(), asShown(say('video.configured.connected', sandbox)))
    t.equal(await tab.getByRole('heading', { level: 3 }).textContent(), say('video.configured.settings'))
    t.equal(await tab.getByLabel(PASSCODE.label.nl).count(), 1, PASSCODE.label.nl)
    t.equal(await tab.getByLabel(WAITING_ROOM.label.nl).count(), 1, WAITING_ROOM.label.nl)
    t.match(await text(tab, 'main'), say('video.configured.switchHint'))
    t.equal(await tab.getByRole('button', { name: say('action.save') }).count(), 1, say('action.save'))
    t.equal(await tab.getByRole('button', { name: say('video.disconnect') }).count(), 1, say('video.disconnect'))
    await checkDutchScreen(t, tab, 'configure: configured')
  })

  await step('Opslaan saves; after closing the tab, the status tab shows the Sandbox in Dutch', async (t) => {
    const tab = configure.tab()
    await tab.getByLabel(WAITING_ROOM.label.nl).check()
    await submit(t, tab, `${CONFIGURE}/settings`, 303, () => tab.getByRole('button', { name: say('action.save') }).click())
    await tab.getByRole('status').filter({ hasText: say('video.configured.saved') }).waitFor()
    await configure.close()
    const configured = `${say('video.status.configured')} Sandbox`
    await returnToStatusTab(t, page, true, configured)
    t.equal(await text(page, '#video-status'), `${configured} ${say('video.status.account', { account: ADMIN_SANDBOX.email })}`)
    await checkDutchScreen(t, page, 'status tab: configured')
  })

  await step('Verbinding verbreken asks in Dutch and brings the provider list back', async (t) => {
    const tab = await openTab(page, () => configureLink(page, 'nl').click())
    t.equal(await disconnectInDialog(t, tab, 'nl'), `confirm: ${say('video.disconnect.confirmQuestion', sandbox)}`, 'the question of the dialog')
    await tab.getByRole('status').filter({ hasText: say('video.disconnect.done', sandbox) }).waitFor()
    t.equal(await tab.getByRole('button', { name: say('video.configure.choose', sandbox) }).count(), 1, 'the provider list is back')
    await checkDutchScreen(t, tab, 'configure: disconnected')
    await tab.close()
  })

  t.same(errors(), [], 'no console errors, CSP violations or page errors')
})

/** Chrome applies CSP form-action to the redirect after a form POST: "Choose Zoom" works only if the policy lists Zoom. */
for (const js of [true, false]) {
  t.test(`Choose Zoom passes CSP form-action, JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const fake = await startZoomFake()
    t.teardown(() => fake.close())
    const { url, page, errors } = await startSession(t, js, { env: fake.env })
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
