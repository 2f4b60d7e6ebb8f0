// The steps the browser tests share: a session with its error collection, setup, Configure → Sandbox, adding a
// user, signing out and in, and the checks of a Dutch screen. Each checks what the user sees on the way, so a
// broken step stops with a reason. The steps find labels and buttons by the words of the app's own catalogs
// (src/i18n, src/sandbox/text.ts), in the language the screen is meant to be in.
import type { Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import type { Language } from '../../src/i18n/languages.js'
import { en, type MessageKey } from '../../src/i18n/en.js'
import { isLanguage, translator, type Translate } from '../../src/i18n/index.js'
import { nl } from '../../src/i18n/nl.js'
import { sandboxText, type SandboxText } from '../../src/sandbox/text.js'
import { ADMIN } from './app.js'
import { checkAccessibility, newPage, startServer } from './browser.js'
import { CONFIGURE } from './configure.js'

export type { Language }
export const STATUS_TAB = '/settings/video-meetings'
export const ADMIN_SANDBOX = { email: 'ada@sandbox.example', name: 'Ada Sandbox' }
export const USER = { name: 'Bob Builder', email: 'bob@example.com', password: 'a long enough password' }
/** The browser locale whose Accept-Language makes the signed-out pages (setup, sign-in) show a language. */
const LOCALES: Record<Language, string> = { en: 'en-US', nl: 'nl-NL' }

/** The screen words of one language: the app's catalog (`t`) and the Sandbox's pages (`s`). */
export function words(language: Language): { t: Translate; s: SandboxText } {
  return { t: translator(language), s: sandboxText(language) }
}

export const pathOf = (page: Page) => new URL(page.url()).pathname
export const heading = (page: Page) => page.getByRole('heading', { level: 1 })
/** An element's visible text with white space collapsed. */
export const text = async (page: Page, selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim()

/** The language a page says it is in (<html lang>): signed-out pages follow Accept-Language, others the user. */
async function shownLanguage(page: Page): Promise<Language> {
  const lang = await page.locator('html').getAttribute('lang')
  if (!isLanguage(lang)) throw new Error(`${page.url()} is in an unknown language: ${lang}`)
  return lang
}

/**
 * The app on a fresh data directory (`env` added to its environment) and a signed-out page of its own, in a browser
 * asking for `language`, plus the errors of it and of every tab opened from it (Chromium reports CSP violations as
 * console errors). The page's context closes when the test ends, before the servers started earlier (teardowns run
 * last-in, first-out), so no open browser connection holds up their close.
 */
export async function startSession(
  t: Test,
  browser: Browser,
  js: boolean,
  { language = 'en', env = {} }: { language?: Language; env?: Record<string, string> } = {},
): Promise<{ url: string; page: Page; errors: () => string[] }> {
  const { url } = await startServer(t, env)
  const { page, errors } = await newPage(browser, { javaScriptEnabled: js, locale: LOCALES[language] })
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
  return { url, page, errors: () => [...errors(), ...fromTabs] }
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

/**
 * Clicks a link and waits until the page it leads to (`landing`, after redirects) is shown. Given the path the click
 * requests (`requested`), returns the headers of that GET (whether htmx sent it), else no headers.
 */
export async function follow(page: Page, click: () => Promise<void>, landing: string | RegExp, requested?: string): Promise<Record<string, string>> {
  const request = requested === undefined ? undefined : page.waitForRequest((r) => new URL(r.url()).pathname === requested && r.method() === 'GET')
  await click()
  const headers = request ? await (await request).allHeaders() : {}
  await page.waitForURL((u) => (typeof landing === 'string' ? u.pathname === landing : landing.test(u.pathname)))
  return headers
}

/** Clicks something that opens a new tab (target="_blank") and returns that tab once its page has loaded. */
export async function openTab(page: Page, click: () => Promise<void>): Promise<Page> {
  const opened = page.context().waitForEvent('page')
  await click()
  const tab = await opened
  await tab.waitForLoadState()
  return tab
}

/** A follow-up's Join meeting link. */
export const joinLink = (page: Page, language: Language = 'en') => page.getByRole('link', { name: words(language).t('meeting.join') })

export const mainMenu = (page: Page, name: string, language: Language = 'en') =>
  page.getByRole('navigation', { name: words(language).t('nav.main') }).getByRole('link', { name })

// ---------------------------------------------------------------------------------------------------------
// The administrator's part: setup, Configure → Sandbox, Add a user, sign out.

/** Fills the setup form (in the language it is shown in) and creates the administrator, who speaks `language`. */
export async function createAdmin(t: Test, page: Page, language: Language = 'en'): Promise<void> {
  const form = words(await shownLanguage(page)).t
  await page.getByLabel(form('field.name'), { exact: true }).fill(ADMIN.name)
  await page.getByLabel(form('field.email')).fill(ADMIN.email)
  await page.getByLabel(form('field.password'), { exact: true }).fill(ADMIN.password)
  await page.getByLabel(form('field.language')).selectOption(language)
  await submit(t, page, '/setup', 303, () => page.getByRole('button', { name: form('setup.submit') }).click())
  await page.locator('.who').filter({ hasText: words(language).t('nav.signedInAs', { name: ADMIN.name }) }).waitFor()
}

/** The first visit leads to setup; creates the administrator there, who is then signed in. */
export async function setUpAdmin(t: Test, page: Page, url: string, language: Language = 'en'): Promise<void> {
  await page.goto(`${url}/`)
  t.equal(pathOf(page), '/setup')
  await createAdmin(t, page, language)
}

/** Main menu → Settings and maintenance (Users) → the Video meetings tab. */
export async function openStatusTab(page: Page, language: Language = 'en'): Promise<void> {
  const { t } = words(language)
  await follow(page, () => mainMenu(page, t('nav.settings'), language).click(), '/settings/users')
  const tabs = page.getByRole('navigation', { name: t('settings.tabs') })
  await follow(page, () => tabs.getByRole('link', { name: t('settings.videoMeetings') }).click(), STATUS_TAB)
  await tabs.locator(`a[href="${STATUS_TAB}"][aria-current="page"]`).waitFor()
}

export const configureLink = (page: Page, language: Language = 'en') => {
  const { t } = words(language)
  return page.getByRole('link', { name: `${t('video.configure')} ${t('video.configure.opensTab')}` })
}

/** On the Configure screen: Choose Sandbox leads to the Sandbox's consent page. */
export async function chooseSandbox(t: Test, tab: Page, language: Language = 'en'): Promise<void> {
  const choose = words(language).t('video.configure.choose', { provider: 'Sandbox' })
  await submit(t, tab, `${CONFIGURE}/sandbox`, 303, () => tab.getByRole('button', { name: choose }).click())
  await tab.waitForURL((u) => u.pathname === '/sandbox/oauth/authorize')
}

/** Fills the Sandbox's consent page and allows; the Sandbox sends the browser back to the app. */
export async function allowAtSandbox(t: Test, page: Page, account: { email: string; name: string }, language: Language = 'en'): Promise<void> {
  const { s } = words(language)
  await page.getByLabel(s.email).fill(account.email)
  await page.getByLabel(s.name).fill(account.name)
  await submit(t, page, '/sandbox/oauth/authorize', 303, () => page.getByRole('button', { name: s.allow }).click())
}

/** The first visit: setup creates the administrator, who then configures the Sandbox for the organization. */
export async function setUpWithSandbox(t: Test, page: Page, url: string, language: Language = 'en'): Promise<void> {
  await setUpAdmin(t, page, url, language)
  await configureSandbox(t, page, language)
}

/** Settings → Video meetings → Configure (a new tab) → Choose Sandbox → Allow; the tab is closed afterwards. */
export async function configureSandbox(t: Test, page: Page, language: Language = 'en'): Promise<void> {
  await openStatusTab(page, language)
  const tab = await openTab(page, () => configureLink(page, language).click())
  await tab.waitForURL((u) => u.pathname === CONFIGURE)
  await chooseSandbox(t, tab, language)
  await allowAtSandbox(t, tab, ADMIN_SANDBOX, language)
  await tab.waitForURL((u) => u.pathname === CONFIGURE)
  t.match(await tab.getByRole('status').textContent(), asShown(words(language).t('video.configured.connected', { provider: 'Sandbox' })))
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

/** Signs out the user, who speaks `language` (the button and the goodbye are theirs). */
export async function signOut(t: Test, page: Page, language: Language = 'en'): Promise<void> {
  const { t: say } = words(language)
  await submit(t, page, '/sign-out', 303, () => page.getByRole('button', { name: say('nav.signOut') }).click())
  await page.getByRole('status').filter({ hasText: say('signIn.signedOut') }).waitFor()
  t.equal(pathOf(page), '/sign-in')
}

/** Fills the sign-in form (in the language it is shown in) and sends it; `expected` is the status of the POST. */
export async function sendSignIn(t: Test, page: Page, credentials: { email: string; password: string }, expected: number): Promise<void> {
  const form = words(await shownLanguage(page)).t
  await page.getByLabel(form('field.email')).fill(credentials.email)
  await page.getByLabel(form('field.password')).fill(credentials.password)
  await submit(t, page, '/sign-in', expected, () => page.getByRole('button', { name: form('signIn.submit') }).click())
}

/** Signs in the user, who speaks `language`. */
export async function signIn(t: Test, page: Page, user: { name: string; email: string; password: string }, language: Language = 'en'): Promise<void> {
  await sendSignIn(t, page, user, 303)
  await page.locator('.who').filter({ hasText: words(language).t('nav.signedInAs', { name: user.name }) }).waitFor()
}

/** Fills the follow-up form in the user's language: title, times, attendees, and a Sandbox video meeting or none. */
export async function fillFollowUp(
  page: Page,
  followUp: { title: string; start: string; end: string; timeZone: string; attendees: string[] },
  video: boolean,
  language: Language = 'en',
): Promise<void> {
  const { t } = words(language)
  await page.getByLabel(t('followUps.field.title'), { exact: true }).fill(followUp.title)
  await page.getByLabel(t('followUps.field.start'), { exact: true }).fill(followUp.start)
  await page.getByLabel(t('followUps.field.end'), { exact: true }).fill(followUp.end)
  await page.getByLabel(t('followUps.field.timeZone')).selectOption(followUp.timeZone)
  await page.getByLabel(t('followUps.field.attendees'), { exact: true }).fill(followUp.attendees.join('\n'))
  await page.getByLabel(t('followUps.field.video', { provider: 'Sandbox' })).setChecked(video)
}

/** Main menu → Preferences → one of its tabs. */
export async function openPreferences(page: Page, tab: string, path: string): Promise<void> {
  await follow(page, () => mainMenu(page, 'Preferences').click(), '/preferences/general')
  const tabs = page.getByRole('navigation', { name: 'Preference sections' })
  await follow(page, () => tabs.getByRole('link', { name: tab }).click(), path)
}

// ---------------------------------------------------------------------------------------------------------
// A Dutch screen: no English left.

/**
 * A catalog string as a pattern: its placeholders left unfilled stand for any text, and it must stand as whole
 * words, not as part of a word or of a name such as America/Port-au-Prince (a time zone option).
 */
export function asShown(value: string): RegExp {
  const parts = value.split(/\{\w+\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(`(?<![\\p{L}\\p{N}_/-])${parts.join('.+?')}(?![\\p{L}\\p{N}_/-])`, 'u')
}

const differing = <K extends string>(english: Record<K, string>, dutch: Record<K, string>, prefix = '') =>
  (Object.keys(english) as K[]).filter((key) => english[key] !== dutch[key]).map((key) => ({ key: prefix + key, value: english[key] }))

/**
 * Every English screen string that Dutch words differently: the app's catalog and the Sandbox's pages. (What
 * both languages write alike, such as "Sandbox" or "Status", cannot tell a leak.) Strings of nothing but
 * placeholders are left out: they would match any text.
 */
const ENGLISH_ONLY = [...differing<MessageKey>(en, nl), ...differing(sandboxText('en'), sandboxText('nl'), 'sandbox.')]
  .filter(({ value }) => /\p{L}/u.test(value.replace(/\{\w+\}/g, '')))
  .map((entry) => ({ ...entry, pattern: asShown(entry.value) }))

/**
 * The English catalog strings a page shows, as `key: text`: in its visible text, its title, and the names and
 * hints given in attributes (aria-label, title, placeholder, alt).
 */
export async function englishLeaks(page: Page): Promise<string[]> {
  const shown = [
    await page.title(),
    await page.locator('body').innerText(),
    ...(await page
      .locator('[aria-label], [title], [placeholder], img[alt]')
      .evaluateAll((elements) => elements.flatMap((e) => ['aria-label', 'title', 'placeholder', 'alt'].map((name) => e.getAttribute(name) ?? '')))),
  ].join('\n')
  return ENGLISH_ONLY.filter(({ pattern }) => pattern.test(shown)).map(({ key, value }) => `${key}: ${value}`)
}

/** A screen meant to be Dutch: <html lang="nl">, no English catalog string, and the accessibility check. */
export async function checkDutchScreen(t: Test, page: Page, label: string): Promise<void> {
  t.equal(await page.locator('html').getAttribute('lang'), 'nl', `${label}: <html lang="nl">`)
  t.same(await englishLeaks(page), [], `${label}: no English screen text`)
  await checkAccessibility(t, page, `${label} (nl)`)
}
