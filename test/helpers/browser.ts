import fs from 'node:fs'
import { createRequire } from 'node:module'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { freePort, tempDir } from './app.js'

/** The system Chromium (scripts/ensure-test-tools.mjs installs it); playwright-core brings no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium'

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
]

/**
 * The real app on a fresh data directory, listening on 127.0.0.1 with BASE_URL set to where it listens;
 * closed when the test ends. Retries with another port if one was taken between picking and listening.
 */
export async function startServer(t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance; url: string }> {
  const dataDir = tempDir(t, 'vm-e2e-')
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: String(port), BASE_URL: url, ...env })
    const app = await buildApp(config)
    try {
      await app.listen({ host: config.host, port: config.port })
    } catch (error) {
      await app.close()
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 5) continue
      throw error
    }
    t.teardown(() => app.close())
    return { app, url }
  }
}

/** One headless Chromium for a whole test file, closed at its end. */
export async function launchBrowser(t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.teardown(() => browser.close())
  return browser
}

export interface PageOptions {
  javaScriptEnabled: boolean
  locale?: string
  extraHTTPHeaders?: Record<string, string>
}

/**
 * A page in its own fresh context (own cookies). Console errors and uncaught page errors are collected:
 * Chromium reports Content-Security-Policy violations as console errors, so an empty list also means no CSP
 * violation. The context is closed when the browser is.
 */
export async function newPage(browser: Browser, options: PageOptions): Promise<{ page: Page; errors: () => string[] }> {
  const context = await browser.newContext({
    javaScriptEnabled: options.javaScriptEnabled,
    locale: options.locale ?? 'en-US',
    ...(options.extraHTTPHeaders && { extraHTTPHeaders: options.extraHTTPHeaders }),
  })
  const page = await context.newPage()
  const collected: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') collected.push(`console: ${message.text()} (${message.location().url || page.url()})`)
  })
  page.on('pageerror', (error) => collected.push(`page error: ${error.message} (${page.url()})`))
  if (!options.javaScriptEnabled) withoutJavaScript.add(page)
  return { page, errors: () => [...collected] }
}

const withoutJavaScript = new WeakSet<Page>()
const require = createRequire(import.meta.url)
let axeSource: string | undefined

interface AxeResult {
  violations: { id: string; impact?: string | null; help: string; helpUrl: string; nodes: { target: unknown[] }[] }[]
}

interface Mirror {
  page: Page
  html: string
  /** Checks run one at a time: the mirror shows one page at a time. */
  queue: Promise<unknown>
}
const mirrors = new WeakMap<Browser, Promise<Mirror>>()

async function openMirror(browser: Browser): Promise<Mirror> {
  const context = await browser.newContext()
  const mirror: Mirror = { page: await context.newPage(), html: '', queue: Promise.resolve() }
  await mirror.page.route('**/*', (route) => {
    const request = route.request()
    if (request.isNavigationRequest()) return route.fulfill({ contentType: 'text/html; charset=utf-8', body: mirror.html })
    if (request.resourceType() === 'script') return route.abort()
    return route.continue()
  })
  return mirror
}

/**
 * axe.run needs timers, which never fire in a page with JavaScript disabled. Such a page is checked in a mirror
 * (one per browser, closed with it): a JavaScript-enabled page showing the same HTML at the same URL, so the
 * same stylesheets load, with the page's own scripts blocked, so its DOM is what a visitor without JavaScript gets.
 */
async function onCheckablePage<T>(page: Page, check: (page: Page) => Promise<T>): Promise<T> {
  if (!withoutJavaScript.has(page)) return check(page)
  const browser = page.context().browser()!
  if (!mirrors.has(browser)) mirrors.set(browser, openMirror(browser))
  const mirror = await mirrors.get(browser)!
  const html = await page.content()
  const run = mirror.queue.then(async () => {
    mirror.html = html
    const viewport = page.viewportSize()
    if (viewport) await mirror.page.setViewportSize(viewport)
    await mirror.page.goto(page.url())
    return check(mirror.page)
  })
  mirror.queue = run.catch(() => undefined)
  return run
}

/**
 * Runs axe-core on the page as it is and fails on serious or critical violations. The source goes in through
 * page.evaluate, which runs over the DevTools protocol: the app's CSP (no inline scripts) does not apply to it,
 * so the page keeps its real CSP and is neither changed nor reloaded (see onCheckablePage for pages without
 * JavaScript).
 */
export async function checkAccessibility(t: Test, page: Page, label = new URL(page.url()).pathname): Promise<void> {
  axeSource ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
  const result = (await onCheckablePage(page, (target) =>
    target.evaluate(`(() => {
      if (!window.axe) { ${axeSource}\n }
      return window.axe.run(document, { resultTypes: ['violations'] })
    })()`),
  )) as AxeResult
  const problems = result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => {
      const where = violation.nodes.slice(0, 5).map((node) => node.target.join(' ')).join(', ')
      const more = violation.nodes.length > 5 ? ` and ${violation.nodes.length - 5} more` : ''
      return `${violation.impact} ${violation.id}: ${violation.help} at ${where}${more} (${violation.helpUrl})`
    })
  t.same(problems, [], `no serious or critical accessibility violations on ${label}`)
}

/**
 * Subtests that share one page: after a step throws, the later ones are skipped instead of each timing
 * out on a page in the wrong state.
 */
export function steps(t: Test): (name: string, fn: (t: Test) => Promise<void>) => Promise<unknown> {
  let broken = false
  return (name, fn) =>
    t.test(name, { skip: broken && 'an earlier step failed' }, async (t) => {
      try {
        await fn(t)
      } catch (error) {
        broken = true
        throw error
      }
    })
}
