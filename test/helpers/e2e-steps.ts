// The steps the browser tests share: a session with its error collection, setup, Configure → Sandbox, adding a
// user, signing out and in. Each checks what the user sees on the way, so a broken step stops with a reason.
import type { Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import { ADMIN } from './app.js'
import { newPage } from './browser.js'
import { CONFIGURE } from './configure.js'

export const STATUS_TAB = '/settings/video-meetings'
export const ADMIN_SANDBOX = { email: 'ada@sandbox.example', name: 'Ada Sandbox' }
export const USER = { name: 'Bob Builder', email: 'bob@example.com', password: 'a long enough password' }

export const pathOf = (page: Page) => new URL(page.url()).pathname
export const heading = (page: Page) => page.getByRole('heading', { level: 1 })
/**
 * A signed-out page of its own plus the errors of it and of every tab opened from it (Chromium reports CSP
 * violations as console errors). Its context closes when the test ends, before the server does.
 */
export async function openSession(t: Test, browser: Browser, js: boolean): Promise<{ page: Page; errors: () => string[] }> {
  const { page, errors } = await newPage(browser, { javaScriptEnabled: js, locale: 'en-US' })
  t.teardown(() => page.context().close())
  page.setDefaultTimeout(10_000)
  const fromTabs: string[] = []
  page.context().on('page', (tab) => {
    tab.setDefaultTimeout(10_000)
    tab.on('console', (message) => {
      if (message.type() === 'error') fromTabs.push(`console: ${message.text()} (${message.location().url || tab.url()})`)
    })
    tab.on('pageerror', (error) => fromTabs.push(`page error: ${error.message} (${tab.url()})`))
  })
  return { page, errors: () => [...errors(), ...fromTabs] }
}

/**
 * Clicks a submit button and checks the status of the POST to `action` (a redirect is 303); on another status,
 * stops the step with the text of the page the app answered with.
 */
export async function submit(t: Test, page: Page, action: string, expected: number, click: () => Promise<void>): Promise<void> {
  const response = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === action)
  await click()
  const status = (await response).status()
  t.equal(status, expected, `POST ${action} answers ${expected}`)
  if (status !== expected) {
    await page.waitForLoadState()
    throw new Error(`POST ${action} answered ${status}; the page says: ${(await page.locator('main').innerText()).trim()}`)
  }
}

/** Clicks a link and waits until the page it leads to (after redirects) is shown. */
export async function follow(page: Page, click: () => Promise<void>, landing: string | RegExp): Promise<void> {
  await click()
  await page.waitForURL((u) => (typeof landing === 'string' ? u.pathname === landing : landing.test(u.pathname)))
}

export const mainMenu = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name })

/** Fills the Sandbox's consent page and allows; the Sandbox sends the browser back to the app. */
export async function allowAtSandbox(t: Test, page: Page, account: { email: string; name: string }): Promise<void> {
  await page.getByLabel('Sandbox account email').fill(account.email)
  await page.getByLabel('Display name').fill(account.name)
  await submit(t, page, '/sandbox/oauth/authorize', 303, () => page.getByRole('button', { name: 'Allow' }).click())
}

// ---------------------------------------------------------------------------------------------------------
// The administrator's part: setup, Configure → Sandbox, Add a user, sign out.

export async function setUpAdmin(t: Test, page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`)
  t.equal(pathOf(page), '/setup')
  await page.getByLabel('Name', { exact: true }).fill(ADMIN.name)
  await page.getByLabel('Email address').fill(ADMIN.email)
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password)
  await page.getByLabel('Language').selectOption('en')
  await submit(t, page, '/setup', 303, () => page.getByRole('button', { name: 'Create administrator' }).click())
  await page.locator('.who').filter({ hasText: `Signed in as ${ADMIN.name}` }).waitFor()
}

/** Settings → Video meetings → Configure (a new tab) → Choose Sandbox → Allow; the tab is closed afterwards. */
export async function configureSandbox(t: Test, page: Page): Promise<void> {
  await follow(page, () => mainMenu(page, 'Settings and maintenance').click(), '/settings/users')
  const tabs = page.getByRole('navigation', { name: 'Settings sections' })
  await follow(page, () => tabs.getByRole('link', { name: 'Video meetings' }).click(), STATUS_TAB)
  const opened = page.context().waitForEvent('page')
  await page.getByRole('link', { name: 'Configure (opens in a new tab)' }).click()
  const tab = await opened
  await tab.waitForURL((u) => u.pathname === CONFIGURE)
  await submit(t, tab, `${CONFIGURE}/sandbox`, 303, () => tab.getByRole('button', { name: 'Choose Sandbox' }).click())
  await tab.waitForURL((u) => u.pathname === '/sandbox/oauth/authorize')
  await allowAtSandbox(t, tab, ADMIN_SANDBOX)
  await tab.waitForURL((u) => u.pathname === CONFIGURE)
  t.match(await tab.getByRole('status').textContent(), /^Connected to Sandbox\. Logged in as /)
  await tab.close()
}

/** Main menu → Settings and maintenance (Users) → Add a user. */
export async function addUser(t: Test, page: Page): Promise<void> {
  await follow(page, () => mainMenu(page, 'Settings and maintenance').click(), '/settings/users')
  const form = page.locator('form[action="/settings/users"]')
  await form.getByLabel('Name', { exact: true }).fill(USER.name)
  await form.getByLabel('Email address').fill(USER.email)
  await form.getByLabel('Password', { exact: true }).fill(USER.password)
  await form.getByLabel('Role').selectOption('user')
  await form.getByLabel('Language').selectOption('en')
  await submit(t, page, '/settings/users', 303, () => form.getByRole('button', { name: 'Add user' }).click())
  await page.getByRole('status').filter({ hasText: `The user ${USER.name} was added.` }).waitFor()
  t.equal(await page.getByRole('row').filter({ hasText: USER.email }).count(), 1, 'the user is listed')
}

export async function signOut(t: Test, page: Page): Promise<void> {
  await submit(t, page, '/sign-out', 303, () => page.getByRole('button', { name: 'Sign out' }).click())
  await page.getByRole('status').filter({ hasText: 'You have been signed out.' }).waitFor()
  t.equal(pathOf(page), '/sign-in')
}

export async function signIn(t: Test, page: Page, user: { name: string; email: string; password: string }): Promise<void> {
  await page.getByLabel('Email address').fill(user.email)
  await page.getByLabel('Password').fill(user.password)
  await submit(t, page, '/sign-in', 303, () => page.getByRole('button', { name: 'Sign in' }).click())
  await page.locator('.who').filter({ hasText: `Signed in as ${user.name}` }).waitFor()
}

/** Main menu → Preferences → one of its tabs. */
export async function openPreferences(page: Page, tab: string, path: string): Promise<void> {
  await follow(page, () => mainMenu(page, 'Preferences').click(), '/preferences/general')
  const tabs = page.getByRole('navigation', { name: 'Preference sections' })
  await follow(page, () => tabs.getByRole('link', { name: tab }).click(), path)
}
