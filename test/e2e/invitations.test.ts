// Email invitations in a real browser, once with JavaScript (htmx) and once without, each with its own server and
// its own SMTP fake on loopback: the admin configures the Sandbox as the organization's provider and connects their
// own Sandbox account; Preferences → Email sends a test email to the fake and saves the settings; a new follow-up
// with video and two attendees is previewed, then saved and sent; the mail worker delivers one invitation per
// attendee (join link, text/calendar REQUEST part, .ics attachment) and the follow-up page shows "invitation: sent".
// A second user without email settings sees the option disabled with a link to Preferences → Email, and downloads
// the .ics instead. Preferences → Email, the form, the preview and the follow-up page are checked with axe-core;
// console errors, CSP violations and page errors fail the run.
import fs from 'node:fs'
import t, { type Test } from 'tap'
import type { Page } from 'playwright-core'
import { ADMIN } from '../helpers/app.js'
import { checkAccessibility, launchBrowser, steps } from '../helpers/browser.js'
import { ADMIN_SANDBOX, USER, addUser, fillFollowUp, follow, heading, mainMenu, startSession as startSessionWith, pathOf, setUpWithSandbox, signIn, signOut, submit, allowAtSandbox, openPreferences, text, joinLink } from '../helpers/e2e-steps.js'
import { startSmtpFake, type ReceivedMail } from '../fakes/smtp.js'

const SENDER = { name: 'Ada Admin', address: ADMIN.email }
const FOLLOW_UP = {
  title: 'Quarterly review',
  start: '2030-03-04T10:00',
  end: '2030-03-04T11:00',
  timeZone: 'Europe/Amsterdam',
  attendees: ['anna@extern.example', 'bert@extern.example'],
}
const SUBJECT = 'Invitation: Quarterly review – Monday, 4 March 2030, 10:00 – 11:00 (Europe/Amsterdam)'
const OTHER = { title: 'Supplier call', start: '2030-04-01T09:00', end: '2030-04-01T09:30', attendees: ['carl@extern.example'] }
const MEETING_URL = /^http:\/\/127\.0\.0\.1:\d+\/sandbox\/meet\/[\w-]+$/
const NO_SETTINGS = 'To send email invitations to external attendees, configure your email settings first.'

const browser = await launchBrowser(t)
const startSession = (t: Test, js: boolean) => startSessionWith(t, browser, js)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Each attendee's line on the follow-up page ("address · invitation: sent"), white space collapsed. */
async function attendeeLines(page: Page): Promise<string[]> {
  const items = page.locator('main > section.panel:not(.meeting) dl.facts ul.plain > li')
  return (await items.allInnerTexts()).map((line) => line.replace(/\s+/g, ' ').trim())
}

const calendarPart = (mail: ReceivedMail) =>
  mail.parsed.attachments.find((a) => a.contentType.startsWith('text/calendar') || a.contentType.startsWith('application/ics'))

for (const js of [true, false]) {
  t.test(`Email invitations, JavaScript ${js ? 'enabled' : 'disabled'}`, async (t) => {
    const started = Date.now()
    const { url, page, errors } = await startSession(t, js)
    const smtp = await startSmtpFake()
    t.teardown(() => smtp.close())
    const step = steps(t)
    let followUpPath = ''
    let meetingUrl = ''

    await step('the admin sets up, configures the Sandbox and connects their own Sandbox account', async (t) => {
      await setUpWithSandbox(t, page, url)
      await openPreferences(page, 'Video meetings', '/preferences/video-meetings')
      t.match(await page.locator('main').textContent(), 'Your organization uses Sandbox for video meetings.')
      // Connect posts without htmx (hx-boost="false"): a plain 303 to the Sandbox in both modes.
      await submit(t, page, '/preferences/video-meetings/connect', 303, () => page.getByRole('button', { name: 'Connect to Sandbox' }).click())
      await page.waitForURL((u) => u.pathname === '/sandbox/oauth/authorize')
      t.equal(await page.getByLabel('Sandbox account email').inputValue(), ADMIN.email, "the admin's own sign-in")
      await allowAtSandbox(t, page, ADMIN_SANDBOX)
      await page.waitForURL((u) => u.pathname === '/preferences/video-meetings')
      await page.getByRole('status').filter({ hasText: `Connected to Sandbox. Logged in as ${ADMIN_SANDBOX.email}.` }).first().waitFor()
      t.match(await text(page, 'main dl.facts'), 'Status Connected')
    })

    await step('Preferences → Email: Send test email reaches the fake, the form stays filled', async (t) => {
      await openPreferences(page, 'Email', '/preferences/email')
      t.match(await page.locator('main').textContent(), 'No email settings are in effect')
      await page.getByLabel('Outgoing server (SMTP)').fill('127.0.0.1')
      await page.getByLabel('Port').fill(String(smtp.port))
      await page.getByLabel('Security').selectOption({ label: 'None (only for a server on this machine)' })
      await page.getByLabel('User name').fill('')
      await page.getByLabel('Sender name').fill(SENDER.name)
      await page.getByLabel('Sender address').fill(SENDER.address)
      await submit(t, page, '/preferences/email', 200, () => page.getByRole('button', { name: 'Send test email' }).click())
      const result = page.getByRole('status').filter({ hasText: `The test email to ${ADMIN.email} was accepted by the server` })
      await result.waitFor()
      t.match(await result.getAttribute('class'), 'flash-success')
      t.equal(await page.getByLabel('Outgoing server (SMTP)').inputValue(), '127.0.0.1', 'host kept')
      t.equal(await page.getByLabel('Port').inputValue(), String(smtp.port), 'port kept')
      t.equal(await page.getByLabel('Security').inputValue(), 'none', 'security kept')
      t.equal(await page.getByLabel('User name').inputValue(), '', 'no user name')
      t.equal(await page.getByLabel('Sender name').inputValue(), SENDER.name, 'sender name kept')
      t.equal(await page.getByLabel('Sender address').inputValue(), SENDER.address, 'sender address kept')
      const [mail] = await smtp.waitFor(1, 20_000)
      t.same(mail!.to, [ADMIN.email], 'the test mail went to the admin')
      t.equal(mail!.parsed.subject, 'Video Meetings: test email')
      t.equal(mail!.parsed.from?.value[0]?.address, SENDER.address)
      await checkAccessibility(t, page, 'preferences: email with the test result')
    })

    await step('Save stores the settings, which are then in effect', async (t) => {
      await submit(t, page, '/preferences/email', 303, () => page.getByRole('button', { name: 'Save' }).click())
      await page.getByRole('status').filter({ hasText: 'The email settings were saved.' }).waitFor()
      t.equal(pathOf(page), '/preferences/email')
      t.match(await page.locator('main').textContent(), 'Your own email settings are in effect.')
      t.equal(await page.getByLabel('Outgoing server (SMTP)').inputValue(), '127.0.0.1')
      t.equal(await page.getByLabel('Port').inputValue(), String(smtp.port))
    })

    await step('New follow-up with two attendees and video, then Preview invitation', async (t) => {
      await follow(page, () => mainMenu(page, 'Follow-ups').click(), '/follow-ups')
      await follow(page, () => page.getByRole('link', { name: 'New follow-up' }).click(), '/follow-ups/new')
      const send = page.getByLabel('Send email invitation to attendees')
      t.equal(await send.isEnabled(), true, 'the invitation option can be used')
      t.equal(await page.getByText(NO_SETTINGS).count(), 0, 'no note about missing settings')
      await fillFollowUp(page, FOLLOW_UP, true)
      await send.check()
      await checkAccessibility(t, page, 'new follow-up form with the invitation option')
      await submit(t, page, '/follow-ups', 200, () => page.getByRole('button', { name: 'Preview invitation' }).click())
      await heading(page).filter({ hasText: 'Preview of the invitation' }).waitFor()
    })

    await step('the preview shows the subject, the body and both attendees ticked', async (t) => {
      const preview = page.getByRole('region', { name: 'Preview of the invitation' })
      t.equal((await preview.locator('p').first().innerText()).trim(), `Subject: ${SUBJECT}`)
      const body = await preview.locator('pre').innerText()
      t.match(body, `\n${FOLLOW_UP.title}\n`, 'the title in the body')
      t.match(body, 'When: Monday, 4 March 2030, 10:00 – 11:00 (Europe/Amsterdam)')
      t.match(body, `Organizer: ${SENDER.name} <${SENDER.address}>`)
      t.match(await preview.textContent(), '(the video meeting link is added as soon as it exists)')
      for (const attendee of FOLLOW_UP.attendees) t.equal(await page.getByLabel(attendee, { exact: true }).isChecked(), true, `${attendee} ticked`)
      await checkAccessibility(t, page, 'invitation preview')
    })

    await step('Save and send leads straight to the follow-up with its meeting (already connected)', async (t) => {
      await submit(t, page, '/follow-ups', 303, () => page.getByRole('button', { name: 'Save and send' }).click())
      await page.waitForURL((u) => /^\/follow-ups\/\d+$/.test(u.pathname))
      followUpPath = pathOf(page)
      t.equal(await heading(page).textContent(), FOLLOW_UP.title)
      await page.getByRole('status').filter({ hasText: 'The follow-up was saved.' }).waitFor()
      meetingUrl = (await joinLink(page).getAttribute('href')) ?? ''
      t.match(meetingUrl, MEETING_URL, 'Join meeting leads to the Sandbox meeting')
    })

    await step('after the mail worker ran, both attendees show "invitation: sent"', async (t) => {
      const wanted = FOLLOW_UP.attendees.map((a) => `${a} · invitation: sent`)
      let states = await attendeeLines(page)
      t.comment(`right after saving: ${states.join('; ')}`)
      for (let i = 0; i < 25 && JSON.stringify(states) !== JSON.stringify(wanted); i++) {
        await sleep(1000)
        await page.reload()
        states = await attendeeLines(page)
      }
      t.same(states, wanted, 'both invitations sent')
      t.equal(await page.locator('.delivery.delivery-sent').count(), 2)
      await checkAccessibility(t, page, 'follow-up with delivery states')
    })

    await step('the fake received one invitation per attendee with the join link, a REQUEST part and an .ics', async (t) => {
      await smtp.waitFor(3, 20_000)
      await sleep(500) // nothing more should arrive
      const invitations = smtp.mails.slice(1)
      t.equal(invitations.length, 2, 'exactly two invitation mails')
      t.same(invitations.map((m) => m.to.join(',')).sort(), [...FOLLOW_UP.attendees].sort(), 'one per attendee')
      for (const mail of invitations) {
        const to = mail.to.join(',')
        t.equal(mail.parsed.subject, SUBJECT, `${to}: subject`)
        t.equal(mail.parsed.from?.value[0]?.address, SENDER.address, `${to}: from the sender address`)
        t.match(mail.parsed.text ?? '', meetingUrl, `${to}: the join link shown on the page`)
        t.match(mail.raw, /Content-Type: text\/calendar;[^\r\n]*method=REQUEST/i, `${to}: a text/calendar; method=REQUEST part`)
        const ics = mail.parsed.attachments.find((a) => (a.filename ?? '').endsWith('.ics'))
        t.ok(ics, `${to}: an .ics attachment`)
        t.match(ics?.content.toString('utf8') ?? '', /^BEGIN:VCALENDAR[\s\S]*METHOD:REQUEST[\s\S]*SUMMARY:Quarterly review/, `${to}: the .ics is the calendar request`)
        t.ok(calendarPart(mail), `${to}: the text/calendar part parsed`)
      }
    })

    await step('a user without email settings: the option is disabled, with a link to Preferences → Email', async (t) => {
      await addUser(t, page)
      await signOut(t, page)
      await signIn(t, page, USER)
      await follow(page, () => mainMenu(page, 'Follow-ups').click(), '/follow-ups')
      await follow(page, () => page.getByRole('link', { name: 'New follow-up' }).click(), '/follow-ups/new')
      const note = page.locator('#f-sendInvitations-note')
      t.match(await note.innerText(), NO_SETTINGS)
      t.equal(await note.getByRole('link', { name: 'Configure email settings' }).getAttribute('href'), '/preferences/email')
      const send = page.getByLabel('Send email invitation to attendees')
      t.equal(await send.isDisabled(), true, 'the checkbox is disabled')
      t.equal(await send.getAttribute('aria-describedby'), 'f-sendInvitations-note', 'the note describes it')
      t.equal(await page.getByRole('button', { name: 'Preview invitation' }).count(), 0, 'no preview')
      await checkAccessibility(t, page, 'new follow-up form without email settings')
    })

    await step('the follow-up page offers Download .ics, a text/calendar file', async (t) => {
      await fillFollowUp(page, { ...OTHER, timeZone: FOLLOW_UP.timeZone }, false)
      await submit(t, page, '/follow-ups', 303, () => page.getByRole('button', { name: 'Save', exact: true }).click())
      await page.waitForURL((u) => /^\/follow-ups\/\d+$/.test(u.pathname))
      const path = pathOf(page)
      t.not(path, followUpPath)
      t.same(await attendeeLines(page), [OTHER.attendees[0]], 'no delivery state')
      const link = page.getByRole('link', { name: 'Download .ics' })
      t.equal(await link.getAttribute('href'), `${path}/invite.ics`)
      t.equal(await link.getAttribute('download'), '', 'a download link')
      const download = page.waitForEvent('download')
      await link.click()
      const file = await download
      t.equal(file.suggestedFilename(), 'Supplier call.ics')
      const content = fs.readFileSync(await file.path(), 'utf8')
      t.match(content, /^BEGIN:VCALENDAR/)
      t.match(content, 'SUMMARY:Supplier call')
      t.match(content, 'METHOD:REQUEST')
      // Chromium does not report a download's response to the page: its headers are fetched with the page's cookies.
      const headers = (await page.request.get(`${url}${path}/invite.ics`)).headers()
      t.match(headers['content-type'], /^text\/calendar/, 'a text/calendar file')
      t.match(headers['content-disposition'], /^attachment; filename="Supplier call\.ics"/)
      t.equal(pathOf(page), path, 'the page stays where it was')
    })

    t.same(errors(), [], 'no console errors, CSP violations or page errors')
    t.comment(`JavaScript ${js ? 'enabled' : 'disabled'}: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  })
}
