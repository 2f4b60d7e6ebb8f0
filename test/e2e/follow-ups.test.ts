// Follow-ups with a video meeting in a real browser, once with JavaScript (htmx) and once without: the admin
// configures the Sandbox as the organization's provider and adds a user; the user's first follow-up with video
// sends them to the Sandbox's consent page and back to the follow-up with its meeting (Join, link, Copy link,
// passcode, dial-in); moving the follow-up moves the same meeting; video off deletes it at the provider. The list,
// the form (also with a validation error), the follow-up page and Preferences → Video meetings are checked with
// axe-core; console errors, CSP violations and page errors fail the run (except the logged 422 of the refused form).
// A Dutch pass (with JavaScript) creates a follow-up with video in Dutch and checks its screens' words against the
// catalog, and that no English shows.
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { followUpForm } from '../helpers/app.js'
import { checkAccessibility, launchBrowser, steps } from '../helpers/browser.js'
import { ADMIN_SANDBOX, USER, addUser, allowAtSandbox, asShown, checkDutchScreen, englishLeaks, fillFollowUp, follow, heading, mainMenu, startSession as startSessionWith, pathOf, setUpWithSandbox, signIn, signOut, submit, text, words, joinLink, type Language } from '../helpers/e2e-steps.js'

const USER_SANDBOX = { email: 'bob@sandbox.example', name: 'Bob Sandbox' }
/** The follow-up the tests share (helpers/app.ts), as the browser fills it in. */
const { title, start, end, timeZone, attendees } = followUpForm()
const FOLLOW_UP = { title, start, end, timeZone, attendees: attendees.split('\n') }
/** Amsterdam is on CET (UTC+1) in early March 2030. */
const MOVED = { start: '2030-03-05T14:00', end: '2030-03-05T14:30', startUtc: '2030-03-05T13:00:00', endUtc: '2030-03-05T13:30:00' }
const DIAL_IN = '+1 555 0100'
const MEETING_URL = /^http:\/\/127\.0\.0\.1:\d+\/sandbox\/meet\/[\w-]+$/

const browser = await launchBrowser(t)
const startSession = (t: Test, js: boolean, language?: Language) => startSessionWith(t, browser, js, { language })

const followUpFacts = (page: Page) => page.locator('main > section.panel:not(.meeting) dl.facts')
const followUpRow = (page: Page) => page.getByRole('row').filter({ hasText: FOLLOW_UP.title })


// ---------------------------------------------------------------------------------------------------------
// The user's follow-up.

/** The follow-up's meeting as its page shows it. */
async function shownMeeting(page: Page, language: Language = 'en'): Promise<{ join: string; link: string; target: string | null }> {
  const join = (await joinLink(page, language).getAttribute('href')) ?? ''
  const link = await page.getByLabel(words(language).t('meeting.link')).inputValue()
  return { join, link, target: await joinLink(page, language).getAttribute('target') }
}

/** With JavaScript: Copy link shows, puts the link on the clipboard and says so. */
async function copyMeetingLink(t: Test, page: Page, origin: string, meetingUrl: string, language: Language = 'en'): Promise<void> {
  const { t: say } = words(language)
  const copy = page.locator('#meeting button[data-copy="meeting-link"]')
  t.equal(await copy.isVisible(), true, 'Copy link is shown')
  t.equal(await copy.textContent(), say('meeting.copy'))
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
  await copy.click()
  await copy.filter({ hasText: say('meeting.copied') }).waitFor()
  t.equal(await page.evaluate(() => navigator.clipboard.readText()), meetingUrl, 'the clipboard holds the link')
}

/** The Sandbox's own page for a meeting (its join URL), opened in the page, then back to the follow-up. */
async function atSandboxMeeting<T>(page: Page, joinUrl: string, look: () => Promise<T>): Promise<T> {
  const back = page.url()
  const response = await page.goto(joinUrl)
  if (response?.status() !== 200) throw new Error(`${joinUrl} answered ${response?.status()}`)
  const seen = await look()
  await page.goto(back)
  return seen
}

for (const js of [true, false]) {
  t.test(`Follow-up with a Sandbox meeting, JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const started = Date.now()
    const { url, page, errors } = await startSession(t, js)
    const step = steps(t)
    let followUpPath = ''
    let meetingUrl = ''

    await step('the admin sets up, configures the Sandbox, adds a user and signs out; the user signs in', async (t) => {
      await setUpWithSandbox(t, page, url)
      await addUser(t, page)
      await signOut(t, page)
      await signIn(t, page, USER)
      t.equal(await mainMenu(page, 'Settings and maintenance').count(), 0, 'a user, not an administrator')
    })

    await step('the follow-ups list starts empty', async (t) => {
      await follow(page, () => mainMenu(page, 'Follow-ups').click(), '/follow-ups')
      await heading(page).filter({ hasText: 'Follow-ups' }).waitFor()
      t.match(await page.locator('main').textContent(), 'No upcoming follow-ups.')
      await checkAccessibility(t, page, 'follow-ups list (empty)')
    })

    await step('New follow-up: an empty title is refused next to the field, the input kept', async (t) => {
      await follow(page, () => page.getByRole('link', { name: 'New follow-up' }).click(), '/follow-ups/new')
      await heading(page).filter({ hasText: 'New follow-up' }).waitFor()
      t.equal(await page.locator('#f-typeId option:checked').textContent(), 'Meeting', 'the first type is proposed')
      t.equal(await page.getByLabel('Video meeting with Sandbox').isChecked(), true, 'video is on by default for the type Meeting')
      await checkAccessibility(t, page, 'new follow-up form')
      await fillFollowUp(page, { ...FOLLOW_UP, title: '' }, true)
      await submit(t, page, '/follow-ups', 422, () => page.getByRole('button', { name: 'Save' }).click())
      const error = page.locator('#f-title-error')
      await error.waitFor()
      t.equal(await error.textContent(), 'Fill in this field.')
      const title = page.getByLabel('Title', { exact: true })
      t.equal(await title.getAttribute('aria-invalid'), 'true')
      t.match(await title.getAttribute('aria-describedby'), 'f-title-error')
      t.equal(await page.getByRole('alert').textContent(), 'Please correct the fields marked below.')
      t.equal(await page.getByLabel('Start', { exact: true }).inputValue(), FOLLOW_UP.start, 'start kept')
      t.equal(await page.getByLabel('End', { exact: true }).inputValue(), FOLLOW_UP.end, 'end kept')
      t.equal(await page.getByLabel('Time zone').inputValue(), FOLLOW_UP.timeZone, 'time zone kept')
      t.equal(await page.getByLabel('Attendees', { exact: true }).inputValue(), FOLLOW_UP.attendees.join('\n'), 'attendees kept')
      t.equal(await page.getByLabel('Video meeting with Sandbox').isChecked(), true, 'video kept')
      await checkAccessibility(t, page, 'new follow-up form with an error')
    })

    await step('Save with video: saved, then the Sandbox asks the user to sign in', async (t) => {
      await page.getByLabel('Title', { exact: true }).fill(FOLLOW_UP.title)
      t.equal(await page.getByLabel('Location').inputValue(), '', 'Location left empty')
      // With htmx the app answers HX-Redirect (200): a fetch cannot follow a redirect into another site's page.
      await submit(t, page, '/follow-ups', js ? 200 : 303, () => page.getByRole('button', { name: 'Save' }).click())
      await page.waitForURL((u) => u.pathname === '/sandbox/oauth/authorize')
      t.equal(await heading(page).textContent(), 'Sign in to the Sandbox')
      t.match(await page.getByRole('status').textContent(), 'The follow-up was saved.', 'saved before leaving for the Sandbox')
      t.equal(await page.getByLabel('Sandbox account email').inputValue(), USER.email, "the user's own sign-in, not the admin's")
    })

    await step('Allow leads back to the follow-up with its meeting', async (t) => {
      await allowAtSandbox(t, page, USER_SANDBOX)
      await page.waitForURL((u) => /^\/follow-ups\/\d+$/.test(u.pathname))
      followUpPath = pathOf(page)
      t.equal(await heading(page).textContent(), FOLLOW_UP.title)
      t.match(await page.getByRole('status').textContent(), `Connected to Sandbox. Logged in as`)
      const meeting = await shownMeeting(page)
      meetingUrl = meeting.join
      t.match(meeting.join, MEETING_URL, 'Join meeting leads to the Sandbox meeting')
      t.equal(meeting.target, '_blank', 'in a new tab')
      t.equal(meeting.link, meeting.join, 'the link in the Meeting link field')
      const link = page.getByLabel('Meeting link')
      t.equal(await link.getAttribute('readonly'), '', 'the field is read-only')
      t.equal(await link.isEditable(), false)
      const meetingFacts = await text(page, '#meeting dl.facts')
      t.match(meetingFacts, /^Passcode [A-Za-z0-9]{6,10} Dial-in /, 'a passcode')
      t.match(meetingFacts, DIAL_IN, 'dial-in numbers')
      t.equal(await page.locator(`#meeting a[href^="tel:"]`).first().getAttribute('href'), `tel:${DIAL_IN.replace(/ /g, '')}`)
      t.match((await followUpFacts(page).innerText()).replace(/\s+/g, ' '), FOLLOW_UP.attendees.join(' '), 'both attendees')
      await checkAccessibility(t, page, 'follow-up with a meeting')
    })

    await step(js ? 'Copy link puts the link on the clipboard' : 'without JavaScript, no Copy button: the field can be selected', async (t) => {
      const field = page.getByLabel('Meeting link')
      if (js) {
        await copyMeetingLink(t, page, url, meetingUrl)
      } else {
        t.equal(await page.locator('#meeting button[data-copy="meeting-link"]').isHidden(), true, 'Copy link stays hidden')
        await field.selectText()
        t.same(
          await field.evaluate((input: HTMLInputElement) => [input.selectionStart, input.selectionEnd]),
          [0, meetingUrl.length],
          'the whole link is selected',
        )
      }
      t.equal(await field.inputValue(), meetingUrl)
    })

    await step('the empty Location now shows the meeting link', async (t) => {
      t.equal(await followUpFacts(page).locator('dt:text-is("Location") + dd').textContent(), meetingUrl)
    })

    await step('the list shows the follow-up with the video icon', async (t) => {
      await follow(page, () => mainMenu(page, 'Follow-ups').click(), '/follow-ups')
      const row = followUpRow(page)
      await row.waitFor()
      t.equal(await row.getByRole('link', { name: FOLLOW_UP.title }).getAttribute('href'), followUpPath)
      t.equal(await row.getByRole('img', { name: 'Video meeting' }).count(), 1, 'the video icon')
      t.match(await row.textContent(), meetingUrl, 'the location column shows the link')
      await checkAccessibility(t, page, 'follow-ups list')
      await follow(page, () => row.getByRole('link', { name: FOLLOW_UP.title }).click(), followUpPath)
    })

    await step('moving the follow-up keeps the link and moves the Sandbox meeting', async (t) => {
      await follow(page, () => page.getByRole('link', { name: 'Edit', exact: true }).click(), `${followUpPath}/edit`)
      await heading(page).filter({ hasText: 'Edit follow-up' }).waitFor()
      t.equal(await page.getByLabel('Location').inputValue(), meetingUrl, 'the form shows the link in Location')
      await page.getByLabel('Start', { exact: true }).fill(MOVED.start)
      await page.getByLabel('End', { exact: true }).fill(MOVED.end)
      await submit(t, page, followUpPath, 303, () => page.getByRole('button', { name: 'Save' }).click())
      await page.waitForURL((u) => u.pathname === followUpPath)
      await page.getByRole('status').filter({ hasText: 'The changes were saved.' }).waitFor()
      const meeting = await shownMeeting(page)
      t.equal(meeting.join, meetingUrl, 'the same Join meeting link')
      t.equal(meeting.link, meetingUrl, 'the same link in the field')
      const times = await atSandboxMeeting(page, meetingUrl, async () => ({
        heading: await heading(page).textContent(),
        datetimes: await page.locator('dd time').evaluateAll((ts) => ts.map((time) => time.getAttribute('datetime'))),
        shown: await text(page, 'dl'),
      }))
      t.equal(times.heading, `Sandbox meeting: ${FOLLOW_UP.title}`)
      t.match(times.datetimes, [new RegExp(`^${MOVED.startUtc}`), new RegExp(`^${MOVED.endUtc}`)], 'the new start and end (UTC)')
      t.match(times.shown, /Starts Tuesday,? 5 March 2030 at 14:00 Ends Tuesday,? 5 March 2030 at 14:30 Time zone Europe\/Amsterdam/)
      t.equal(pathOf(page), followUpPath, 'back on the follow-up')
    })

    await step('video off: no Join meeting any more, the Sandbox meeting is deleted', async (t) => {
      await follow(page, () => page.getByRole('link', { name: 'Edit', exact: true }).click(), `${followUpPath}/edit`)
      await page.getByLabel('Video meeting with Sandbox').uncheck()
      await submit(t, page, followUpPath, 303, () => page.getByRole('button', { name: 'Save' }).click())
      await page.waitForURL((u) => u.pathname === followUpPath)
      await page.getByRole('status').filter({ hasText: 'The changes were saved.' }).waitFor()
      t.equal(await joinLink(page).count(), 0, 'no Join meeting link')
      t.equal(await page.locator('#meeting').count(), 0, 'no meeting panel')
      // Fetched with the page's cookies but outside the page, so the expected 404 is not a console error.
      t.equal((await page.request.get(meetingUrl)).status(), 404, 'the old meeting URL is gone at the Sandbox')
    })

    await step('the list shows the follow-up without the video icon', async (t) => {
      await follow(page, () => mainMenu(page, 'Follow-ups').click(), '/follow-ups')
      const row = followUpRow(page)
      await row.waitFor()
      t.equal(await row.getByRole('img', { name: 'Video meeting' }).count(), 0, 'no video icon')
    })

    await step('Preferences → Video meetings shows the connection with Reconnect and Disconnect', async (t) => {
      await follow(page, () => mainMenu(page, 'Preferences').click(), '/preferences/general')
      const tabs = page.getByRole('navigation', { name: 'Preference sections' })
      await follow(page, () => tabs.getByRole('link', { name: 'Video meetings' }).click(), '/preferences/video-meetings')
      await page.getByRole('heading', { name: 'Your video meeting connection' }).waitFor()
      t.match(await page.locator('main').textContent(), 'Your organization uses Sandbox for video meetings.')
      t.match(
        await text(page, 'main dl.facts'),
        `Service provider Sandbox Logged in as ${USER_SANDBOX.name} <${USER_SANDBOX.email}> Status Connected Last used `,
      )
      t.equal(await page.getByRole('button', { name: 'Reconnect' }).isVisible(), true, 'Reconnect')
      t.equal(await page.getByRole('button', { name: 'Disconnect' }).isVisible(), true, 'Disconnect')
      await checkAccessibility(t, page, 'preferences: video meetings')
    })

    // Chromium logs every 4xx response: the refused empty title (a 422) is expected, nothing else.
    const refused = `console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity) (${url}/follow-ups)`
    t.same(errors().filter((line) => line !== refused), [], 'no console errors, CSP violations or page errors')
    t.comment(`JavaScript ${js ? 'enabled' : 'disabled'}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
}

/**
 * A follow-up with video for an administrator who speaks Dutch (setup in a browser asking for nl), with JavaScript:
 * the form, the Sandbox's consent page and the follow-up with its meeting (Join meeting, Meeting link, Copy link)
 * show the Dutch catalog's words (src/i18n/nl.ts), no English catalog string, and pass the accessibility check.
 */
t.test('Follow-up with a Sandbox meeting in Dutch, JavaScript enabled', async (t) => {
  const started = Date.now()
  const { url, page, errors } = await startSession(t, true, 'nl')
  const { t: say, s } = words('nl')
  const sandbox = { provider: 'Sandbox' }
  const step = steps(t)
  let meetingUrl = ''

  await step('the admin sets up in Dutch and configures the Sandbox', async (t) => {
    await setUpWithSandbox(t, page, url, 'nl')
  })

  await step('Nieuwe vervolgactie: the form in Dutch, video on by default', async (t) => {
    await follow(page, () => mainMenu(page, say('nav.followUps'), 'nl').click(), '/follow-ups')
    t.match(await text(page, 'main'), say('followUps.emptyUpcoming'))
    await follow(page, () => page.getByRole('link', { name: say('followUps.new') }).click(), '/follow-ups/new')
    t.equal(await heading(page).textContent(), say('followUps.newTitle'))
    t.equal(await page.getByLabel(say('followUps.field.video', sandbox)).isChecked(), true, 'video is on by default')
    t.match(await text(page, 'main'), say('followUps.field.videoHint', sandbox))
    await checkDutchScreen(t, page, 'new follow-up form')
  })

  await step('Opslaan: saved, then the Sandbox asks in Dutch to sign in', async (t) => {
    await fillFollowUp(page, FOLLOW_UP, true, 'nl')
    await submit(t, page, '/follow-ups', 200, () => page.getByRole('button', { name: say('action.save') }).click())
    await page.waitForURL((u) => u.pathname === '/sandbox/oauth/authorize')
    t.equal(await heading(page).textContent(), s.authorizeTitle)
    t.match(await page.getByRole('status').textContent(), say('followUps.created'), 'saved before leaving for the Sandbox')
  })

  await step('Toestaan leads back to the follow-up with its meeting, in Dutch', async (t) => {
    await allowAtSandbox(t, page, ADMIN_SANDBOX, 'nl')
    await page.waitForURL((u) => /^\/follow-ups\/\d+$/.test(u.pathname))
    t.equal(await heading(page).textContent(), FOLLOW_UP.title)
    t.match(await page.getByRole('status').textContent(), asShown(say('video.configured.connected', sandbox)))
    const meeting = await shownMeeting(page, 'nl')
    meetingUrl = meeting.join
    t.match(meeting.join, MEETING_URL, `${say('meeting.join')} leads to the Sandbox meeting`)
    t.equal(meeting.target, '_blank', 'in a new tab')
    t.equal(meeting.link, meeting.join, `the link in the ${say('meeting.link')} field`)
    t.equal(await page.locator('#meeting-heading').innerText(), say('meeting.heading'))
    t.match(await text(page, '#meeting dl.facts'), new RegExp(`^${say('meeting.passcode')} [A-Za-z0-9]{6,10} ${say('meeting.dialIn')} \\+`))
    const facts = followUpFacts(page)
    t.same(await facts.locator('dt').allInnerTexts(), (['followUps.field.type', 'followUps.when', 'followUps.field.location', 'followUps.attendees'] as const).map((key) => say(key)))
    const start = facts.locator('dd time').first()
    const zone = /\(([^)]+)\)$/.exec(await facts.locator('dd').first().innerText())?.[1]
    const dutchDate = new Intl.DateTimeFormat('nl', { dateStyle: 'full', timeStyle: 'short', timeZone: zone })
    t.equal(await start.innerText(), dutchDate.format(new Date((await start.getAttribute('datetime'))!)), 'the start, written in Dutch')
    t.equal(await page.getByRole('link', { name: say('followUps.edit') }).count(), 1, say('followUps.edit'))
    t.equal(await page.getByRole('button', { name: say('followUps.delete') }).count(), 1, say('followUps.delete'))
    await checkDutchScreen(t, page, 'follow-up with a meeting')
  })

  await step('Link kopiëren puts the link on the clipboard and says so in Dutch', async (t) => {
    await copyMeetingLink(t, page, url, meetingUrl, 'nl')
    t.same(await englishLeaks(page), [], 'no English after copying')
  })

  t.same(errors(), [], 'no console errors, CSP violations or page errors')
  t.comment(`Dutch: ${((Date.now() - started) / 1000).toFixed(1)} s`)
})
