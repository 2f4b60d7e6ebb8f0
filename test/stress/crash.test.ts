/**
 * Issue 8, hardening: kill -9 the server in the middle of 1,000 concurrent writes (follow-ups with attendees,
 * edits, email settings, preferences, admin settings), restart, and prove that
 * - the database is intact (`PRAGMA integrity_check`, `foreign_key_check`),
 * - every write the server acknowledged (its whole 303 answer arrived) is there, and nothing is half-written
 *   (a follow-up always has exactly the attendees, video meeting/job and queued invitations of one write),
 * - the outbox resumes after the restart and every invitation reaches the SMTP server exactly once.
 *
 * The server runs as a real child process (`node --import tsx src/server.ts`) and is killed twice, each time at
 * a chosen moment of an SMTP conversation (held back by a proxy in front of test/fakes/smtp.ts):
 * 1. after the final "." of a message, before the server's "250" reaches the app: the server has the
 *    invitation, the app has not recorded it as sent (sending it again after the restart would be a duplicate);
 * 2. after DATA, before the message content went out: the invitation has not arrived anywhere (not sending it
 *    after the restart would lose it).
 * A third run finishes the writes, waits until the outbox is empty and is stopped with SIGTERM.
 *
 * CRASH_SEED=<n> repeats a run's choices (the seed is printed).
 */
import path from 'node:path'
import Database from 'better-sqlite3'
import ICAL from 'ical.js'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { startSmtpFake, type ReceivedMail, type SmtpFake } from '../fakes/smtp.js'
import { addUser, ADMIN, setUpAdmin, tempDir } from '../helpers/app.js'
import { HttpSession, random, sleep, SmtpProxy, startServer, waitForOk, type Held, type HoldPoint, type ServerProcess } from './crash-helpers.js'
import { freePort } from '../helpers/app.js'

const TOTAL_WRITES = 1_000
const CONCURRENCY = 50
/** Before a kill: one write at a time, this far apart, until the mail worker is in the middle of a message. */
const WARM_UP_GAP_MS = 40
const SMTP_USER = { user: 'crash-smtp', pass: 'crash smtp password' }
const PASSWORD = 'a long enough password'
const USERS = [1, 2, 3, 4].map((i) => ({ name: `User ${i}`, email: `user${i}@example.com` }))
const GUESTS = Array.from({ length: 16 }, (_, i) => `guest${i + 1}@extern.example`)
const INSTALLATION_FROM = 'meetings@acme.example'

interface RunPlan {
  /** Writes launched at most in this run. */
  budget: number
  /** Kill once this many writes of this run were acknowledged and an SMTP answer is held at `at`. */
  kill?: { afterAcks: number; at: HoldPoint }
}
const RUNS: RunPlan[] = [
  { budget: 550, kill: { afterAcks: 250, at: 'dot' } },
  { budget: 300, kill: { afterAcks: 150, at: 'data' } },
  { budget: Infinity },
]
/** Before a kill: at least this many writes acknowledged at full concurrency (so many are in flight at the kill). */
const FULL_SPEED_ACKS = 100
/** How long the proxy holds the SMTP answer: the writes reach the kill condition while it is held. */
const HOLD_MS = 8_000

type Kind = 'create' | 'edit' | 'email' | 'profile' | 'type' | 'installation'

interface Write {
  n: number
  run: number
  kind: Kind
  /** 0 = the administrator, 1..4 = the users. */
  actor: number
  url: string
  form: Record<string, string>
  /** The entity whose value this write sets (settings, or a follow-up being edited). */
  entity?: Entity
  /** The identifying value: a title, a name. */
  value: string
  outcome: 'pending' | 'acked' | 'lost' | 'refused'
}

/** What a follow-up must look like when its title is `title` (titles are unique per write). */
interface Content {
  title: string
  actor: number
  attendees: string[]
  video: boolean
}

/** A value several writes set in turn (never two at once): after a kill it is the last acknowledged one, or one sent after it. */
interface Entity {
  key: string
  value: string | null
  unacked: string[]
  busy: boolean
  actor: number
  video?: boolean
}

function possible(entity: Entity): string[] {
  return [...(entity.value === null ? [] : [entity.value]), ...entity.unacked]
}

function mailForm(port: number, fromName: string, fromAddress: string, username = SMTP_USER.user, password = '') {
  return { host: '127.0.0.1', port: String(port), security: 'none', username, password, fromName, fromAddress, action: 'save' }
}

function followUpForm(n: number, content: Content): Record<string, string> {
  const day = String(1 + (n % 28)).padStart(2, '0')
  return {
    title: content.title,
    typeId: '',
    start: `2031-03-${day}T10:00`,
    end: `2031-03-${day}T11:00`,
    duration: '',
    timeZone: 'Europe/Amsterdam',
    location: '',
    description: `Write ${n}`,
    attendees: content.attendees.join('\n'),
    video: content.video ? 'true' : '',
    sendInvitations: 'true',
  }
}

function calendarOf(mail: ReceivedMail): { uid: string; sequence: number; method: string } {
  const part = mail.parsed.attachments.find((a) => a.contentType.startsWith('application/ics') || a.contentType.startsWith('text/calendar'))
  if (!part) throw new Error(`no calendar part in ${mail.parsed.messageId}`)
  const calendar = new ICAL.Component(ICAL.parse(part.content.toString('utf8')))
  const event = calendar.getFirstSubcomponent('vevent')!
  return { uid: String(event.getFirstPropertyValue('uid')), sequence: Number(event.getFirstPropertyValue('sequence')), method: String(calendar.getFirstPropertyValue('method')) }
}

const bare = (messageId: string | undefined | null) => (messageId ?? '').trim().replace(/^<|>$/g, '')

t.test('kill -9 during 1,000 concurrent writes: intact, nothing acknowledged lost, outbox resumes, no invitation twice', async (t) => {
  t.setTimeout(420_000)
  const started = Date.now()
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31)
  t.comment(`seed ${seed} (CRASH_SEED=${seed} repeats the choices)`)
  const rand = random(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!

  // ---- The SMTP server (test/fakes/smtp.ts) behind the proxy, and the data directory. ----
  const smtp: SmtpFake = await startSmtpFake({ auth: SMTP_USER })
  t.teardown(() => smtp.close())
  const proxy = await new SmtpProxy(smtp.port).listen()
  t.teardown(() => proxy.close())
  const dataDir = tempDir(t, 'vm-crash-')
  const dbFile = path.join(dataDir, 'video-meetings.db')

  const entities = new Map<string, Entity>()
  const entity = (key: string, actor: number, value: string | null): Entity => {
    const e = { key, value, unacked: [], busy: false, actor }
    entities.set(key, e)
    return e
  }
  {
    const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), { startWorkers: false })
    const admin = await setUpAdmin(app)
    const jitsi = await admin.submit('/settings/video-meetings/configure', '/settings/video-meetings/configure/jitsi', {})
    if (jitsi.statusCode !== 303) throw new Error(`configuring Jitsi: ${jitsi.statusCode}`)
    const installation = await admin.submit('/settings/email', '/settings/email', mailForm(proxy.port, 'Installation', INSTALLATION_FROM, SMTP_USER.user, SMTP_USER.pass))
    if (installation.statusCode !== 303) throw new Error(`installation email settings: ${installation.statusCode}`)
    entity('installation', 0, 'Installation')
    for (const [i, user] of USERS.entries()) {
      const client = await addUser(app, admin, { ...user, password: PASSWORD })
      const saved = await client.submit('/preferences/email', '/preferences/email', mailForm(proxy.port, `${user.name} mail`, user.email, SMTP_USER.user, SMTP_USER.pass))
      if (saved.statusCode !== 303) throw new Error(`email settings of ${user.email}: ${saved.statusCode}`)
      entity(`email:${i + 1}`, i + 1, `${user.name} mail`)
      entity(`profile:${i + 1}`, i + 1, user.name)
    }
    await app.close()
  }
  const initialTypes = new Set<string>(['Meeting', 'Call', 'Task'])
  const emails = [ADMIN.email, ...USERS.map((u) => u.email)]
  const passwords = [ADMIN.password, ...USERS.map(() => PASSWORD)]

  // ---- What was written. ----
  const writes: Write[] = []
  const contents = new Map<string, Content>()
  const followUps: Entity[] = []
  const typesAcked = new Set<string>()
  const typesTried = new Set<string>()
  const refused: string[] = []
  const unexpectedErrors: string[] = []

  const nextWrite = (run: number): Write => {
    const n = writes.length + 1
    const roll = rand()
    const free = (e: Entity | undefined) => e !== undefined && !e.busy
    let write: Omit<Write, 'n' | 'run' | 'outcome'> | null = null
    if (roll < 0.2) {
      const candidates = followUps.filter((f) => !f.busy)
      if (candidates.length > 0) {
        const f = pick(candidates)
        const base = contents.get(f.value!)!
        const attendees = new Set(base.attendees)
        if (attendees.size > 1 && rand() < 0.35) attendees.delete(pick([...attendees]))
        if (rand() < 0.35) attendees.add(pick(GUESTS))
        const content: Content = { title: `Crash ${n} (edit of ${f.key})`, actor: f.actor, attendees: [...attendees], video: f.video! }
        contents.set(content.title, content)
        write = { kind: 'edit', actor: f.actor, url: `/follow-ups/${f.key.slice(3)}`, form: followUpForm(n, content), entity: f, value: content.title }
      }
    } else if (roll < 0.3) {
      const i = 1 + Math.floor(rand() * USERS.length)
      const e = entities.get(`email:${i}`)
      if (free(e)) {
        const value = `${USERS[i - 1]!.name} mail ${n}`
        write = { kind: 'email', actor: i, url: '/preferences/email', form: mailForm(proxy.port, value, USERS[i - 1]!.email), entity: e!, value }
      }
    } else if (roll < 0.38) {
      const i = 1 + Math.floor(rand() * USERS.length)
      const e = entities.get(`profile:${i}`)
      if (free(e)) {
        const value = `User ${i} v${n}`
        write = { kind: 'profile', actor: i, url: '/preferences/general', form: { name: value, language: 'en', timeZone: 'Europe/Amsterdam' }, entity: e!, value }
      }
    } else if (roll < 0.44) {
      const value = `Type ${n}`
      typesTried.add(value)
      write = { kind: 'type', actor: 0, url: '/settings/follow-up-types', form: { name: value, videoDefault: rand() < 0.5 ? 'true' : '' }, value }
    } else if (roll < 0.5) {
      const e = entities.get('installation')
      if (free(e)) {
        const value = `Installation ${n}`
        write = { kind: 'installation', actor: 0, url: '/settings/email', form: mailForm(proxy.port, value, INSTALLATION_FROM), entity: e!, value }
      }
    }
    if (!write) {
      const actor = Math.floor(rand() * emails.length)
      const attendees = new Set<string>()
      // Some without attendees (nothing to mail); the outbox drains at about 5 messages a second.
      const roll = rand()
      const count = roll < 0.4 ? 0 : roll < 0.85 ? 1 : 2
      while (attendees.size < count) attendees.add(pick(GUESTS))
      const content: Content = { title: `Crash ${n}`, actor, attendees: [...attendees], video: rand() < 0.3 }
      contents.set(content.title, content)
      write = { kind: 'create', actor, url: '/follow-ups', form: followUpForm(n, content), value: content.title }
    }
    const full: Write = { ...write, n, run, outcome: 'pending' }
    writes.push(full)
    return full
  }

  // ---- One server run: sign in, write, maybe kill at the chosen moment. ----
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let server: ServerProcess | null = null
  t.teardown(() => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
  })
  const boot = async () => {
    server = startServer({ DATA_DIR: dataDir, PORT: String(port), BASE_URL: base })
    try {
      await waitForOk(`${base}/readyz`, 60_000)
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${server.output()}`)
    }
    const sessions = emails.map(() => new HttpSession(base))
    await Promise.all(sessions.map((s, i) => s.signIn(emails[i]!, passwords[i]!)))
    return { server, sessions }
  }

  interface KillReport {
    run: number
    acked: number
    inFlight: number
    held: Held
    receivedBefore: number
  }

  const runWrites = async (run: number, plan: RunPlan, sessions: HttpSession[], current: ServerProcess): Promise<KillReport | null> => {
    let killed = false
    let acked = 0
    const inFlight = new Set<Promise<void>>()
    const execute = async (w: Write) => {
      if (w.entity) w.entity.busy = true
      try {
        const res = await sessions[w.actor]!.post(w.url, w.form)
        if (res.status !== 303) {
          w.outcome = 'refused'
          refused.push(`write ${w.n} (${w.kind} ${w.url}) answered ${res.status}: ${res.body.replace(/\s+/g, ' ').slice(0, 300)}`)
          return
        }
        w.outcome = 'acked'
        acked++
        if (w.entity) {
          w.entity.value = w.value
          w.entity.unacked = []
        }
        if (w.kind === 'type') typesAcked.add(w.value)
        if (w.kind === 'create') {
          const id = /^\/follow-ups\/(\d+)$/.exec(res.location ?? '')?.[1]
          if (!id) throw new Error(`create answered 303 to ${res.location}`)
          const e = entity(`fu:${id}`, w.actor, w.value)
          e.video = contents.get(w.value)!.video
          followUps.push(e)
        }
      } catch (error) {
        w.outcome = 'lost'
        if (w.entity) w.entity.unacked.push(w.value)
        if (!killed) unexpectedErrors.push(`write ${w.n} (${w.kind}) failed before any kill: ${String(error)}`)
      } finally {
        if (w.entity) w.entity.busy = false
      }
    }

    let report = null as KillReport | null
    let done = false
    // Before a kill, the mail worker must be busy (in the middle of a message) when the writes are at full speed.
    let warm = !plan.kill
    let ackedWhenWarm = 0
    const runStarted = Date.now()
    const killer = plan.kill
      ? (async () => {
          const { afterAcks, at } = plan.kill!
          while (!(warm && acked - ackedWhenWarm >= FULL_SPEED_ACKS && acked >= afterAcks) && !done) await sleep(2)
          const held = await proxy.waitForHold(at, 60_000)
          report = { run, acked, inFlight: inFlight.size, held, receivedBefore: smtp.mails.length }
          killed = true
          current.child.kill('SIGKILL')
        })()
      : null
    let launched = 0
    while (launched < plan.budget && writes.length < TOTAL_WRITES && !killed) {
      if (!warm && [...proxy.active].some((h) => h.point === plan.kill!.at)) {
        warm = true
        ackedWhenWarm = acked
      }
      if (inFlight.size >= (warm ? CONCURRENCY : 1)) {
        await Promise.race(inFlight)
        continue
      }
      const w = nextWrite(run)
      launched++
      const p: Promise<void> = execute(w).finally(() => inFlight.delete(p))
      inFlight.add(p)
      if (!warm) await sleep(WARM_UP_GAP_MS)
    }
    done = true
    await killer
    await Promise.allSettled([...inFlight])
    const seconds = (Date.now() - runStarted) / 1000
    t.comment(`run ${run}: ${launched} writes launched, ${acked} acknowledged in ${seconds.toFixed(1)} s (${plan.kill ? `${ackedWhenWarm} one at a time until the mail worker was busy, then ` : ''}up to ${CONCURRENCY} at once)${report ? `; killed with ${report.inFlight} in flight` : ''}`)
    return report
  }

  // ---- Checks on the database file, the server stopped. ----
  const checkDatabase = (t: Test, label: string) => {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true })
    try {
      t.same(db.pragma('integrity_check'), [{ integrity_check: 'ok' }], `${label}: PRAGMA integrity_check = ok`)
      t.same(db.pragma('foreign_key_check'), [], `${label}: PRAGMA foreign_key_check finds nothing`)
      const userIds = new Map((db.prepare('SELECT email, id FROM users').all() as { email: string; id: number }[]).map((u) => [u.email, u.id]))
      const problems: string[] = []

      // Every follow-up is exactly one write's content, with its attendees, meeting and invitations.
      const rows = db.prepare('SELECT id, user_id, title, video, deleted_at, ical_uid FROM follow_ups').all() as { id: number; user_id: number; title: string; video: number; deleted_at: string | null; ical_uid: string | null }[]
      const byId = new Map(rows.map((r) => [r.id, r]))
      const attendeesOf = db.prepare('SELECT email, invite FROM attendees WHERE follow_up_id = ? ORDER BY email')
      const meetingOf = db.prepare('SELECT state, join_url FROM meetings WHERE follow_up_id = ?')
      const jobOf = db.prepare("SELECT COUNT(*) FROM jobs WHERE follow_up_id = ? AND kind = 'meeting.sync'").pluck()
      const latestMail = db.prepare('SELECT kind, state, snapshot FROM outbox WHERE follow_up_id = ? AND recipient = ? ORDER BY id DESC LIMIT 1')
      for (const row of rows) {
        const content = contents.get(row.title)
        if (!content) {
          problems.push(`follow-up ${row.id} has a title no write sent: ${row.title}`)
          continue
        }
        if (row.deleted_at !== null) problems.push(`follow-up ${row.id} is deleted`)
        if (row.user_id !== userIds.get(emails[content.actor]!)) problems.push(`follow-up ${row.id} belongs to user ${row.user_id}`)
        const attendees = attendeesOf.all(row.id) as { email: string; invite: number }[]
        const expected = [...content.attendees].sort()
        if (JSON.stringify(attendees.map((a) => a.email)) !== JSON.stringify(expected)) {
          problems.push(`follow-up ${row.id} "${row.title}" has attendees ${attendees.map((a) => a.email).join(',')}, its write had ${expected.join(',')}`)
        }
        if ((row.video === 1) !== content.video) problems.push(`follow-up ${row.id}: video ${row.video}, its write said ${content.video}`)
        const meeting = meetingOf.get(row.id) as { state: string; join_url: string } | undefined
        if (content.video) {
          if (!meeting) problems.push(`follow-up ${row.id} has video but no meeting`)
          else if (!(meeting.state === 'ready' && meeting.join_url) && jobOf.get(row.id) === 0) problems.push(`follow-up ${row.id}: meeting ${meeting.state} without a job`)
        } else if (meeting) problems.push(`follow-up ${row.id} has no video but a meeting`)
        if (attendees.length > 0 && !row.ical_uid) problems.push(`follow-up ${row.id} was never mailed (no UID)`)
        for (const a of attendees) {
          const mail = latestMail.get(row.id, a.email) as { kind: string; state: string; snapshot: string } | undefined
          if (!mail) problems.push(`follow-up ${row.id}: no invitation for ${a.email}`)
          else if (mail.kind !== 'request' || mail.state === 'superseded' || (JSON.parse(mail.snapshot) as { title: string }).title !== row.title) {
            problems.push(`follow-up ${row.id}: the newest mail to ${a.email} is ${mail.kind}/${mail.state} "${(JSON.parse(mail.snapshot) as { title: string }).title}", not the invitation to "${row.title}"`)
          }
        }
      }

      // Every acknowledged write is there (or a later one sent to the same thing).
      let ackedChecked = 0
      for (const e of entities.values()) {
        let actual: string | undefined
        const userId = userIds.get(emails[e.actor]!)
        if (e.key.startsWith('fu:')) actual = byId.get(Number(e.key.slice(3)))?.title
        else if (e.key.startsWith('email:')) actual = db.prepare('SELECT from_name FROM mail_settings WHERE user_id = ?').pluck().get(userId) as string | undefined
        else if (e.key.startsWith('profile:')) actual = db.prepare('SELECT name FROM users WHERE id = ?').pluck().get(userId) as string | undefined
        else if (e.key === 'installation') actual = db.prepare('SELECT from_name FROM mail_settings WHERE user_id IS NULL').pluck().get() as string | undefined
        if (actual === undefined || !possible(e).includes(actual)) problems.push(`${e.key} is ${JSON.stringify(actual)}, expected one of ${JSON.stringify(possible(e))}`)
        ackedChecked++
      }
      const types = new Set(db.prepare('SELECT name FROM follow_up_types').pluck().all() as string[])
      for (const name of typesAcked) if (!types.has(name)) problems.push(`acknowledged follow-up type ${name} is missing`)
      for (const name of types) if (!initialTypes.has(name) && !typesTried.has(name)) problems.push(`unknown follow-up type ${name}`)
      const ackedCreates = writes.filter((w) => w.kind === 'create' && w.outcome === 'acked').length
      t.same(problems.slice(0, 20), [], `${label}: every acknowledged write is there and nothing is half-written (${rows.length} follow-ups, ${ackedCreates} acknowledged creates, ${ackedChecked} values, ${typesAcked.size} types)`)

      const states = Object.fromEntries((db.prepare('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]))
      const sending = db.prepare("SELECT id, recipient, message_id AS messageId, sent_at AS sentAt FROM outbox WHERE state = 'sending' ORDER BY id").all() as { id: number; recipient: string; messageId: string; sentAt: string | null }[]
      const lockedUntil = db.prepare("SELECT COALESCE(MAX(locked_until), 0) FROM outbox WHERE state = 'sending'").pluck().get() as number
      return { states, sending, lockedUntil, followUps: rows.length }
    } finally {
      db.close()
    }
  }

  // ---- Runs 1 and 2: killed; run 3: finishes the writes and drains the outbox. ----
  const kills: KillReport[] = []
  for (const [index, plan] of RUNS.entries()) {
    const run = index + 1
    proxy.hold = new Set(plan.kill ? [plan.kill.at] : [])
    proxy.holdMs = plan.kill ? HOLD_MS : 0
    proxy.skip = 4
    const { server: current, sessions } = await boot()
    const report = await runWrites(run, plan, sessions, current)
    if (!plan.kill) break
    const exit = await current.exited
    t.equal(exit.signal, 'SIGKILL', `run ${run} ended by SIGKILL`)
    kills.push(report!)
    const at = checkDatabase(t, `after kill ${run}`)
    const held = report!.held
    const heldRow = held.messageId ? at.sending.find((s) => bare(s.messageId) === bare(held.messageId)) : undefined
    t.comment(
      `kill ${run} (SMTP answer held at '${held.point}' for ${held.recipients.join(', ')}${held.messageId ? `, ${held.messageId}` : ''}): ` +
        `${report!.acked} writes acknowledged in this run, ${report!.inFlight} in flight; ` +
        `outbox ${JSON.stringify(at.states)}; ${at.sending.length} rows 'sending' (${at.sending.filter((s) => s.sentAt).length} handed to the SMTP server); ` +
        `${report!.receivedBefore} mails received by the SMTP server before the kill`,
    )
    if (held.point === 'dot') {
      t.ok(smtp.mails.some((m) => bare(m.parsed.messageId) === bare(held.messageId)), `kill ${run}: the SMTP server had taken ${held.messageId} when the app died`)
      t.ok(heldRow, `kill ${run}: its outbox row was still 'sending' (the app never saw the server's answer)`)
    }
    t.ok(report!.inFlight > 0, `kill ${run}: writes were in flight`)
    t.ok(report!.acked >= plan.kill.afterAcks, `kill ${run}: after ${report!.acked} acknowledgements`)
    t.ok(at.sending.length > 0, `kill ${run}: outbox rows were in the middle of being sent`)
    t.ok((at.states.queued ?? 0) + (at.states.waiting ?? 0) > 0, `kill ${run}: outbox rows were still pending`)
  }
  t.same(refused, [], 'no write was refused')
  t.same(unexpectedErrors, [], 'no write failed other than by a kill')
  t.equal(writes.length, TOTAL_WRITES, `${TOTAL_WRITES} writes in all`)

  // Drain: every message leaves the outbox (rows 'sending' at a kill wait for their lease to run out).
  const drainStarted = Date.now()
  const pendingCount = () => {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true })
    try {
      return db.prepare("SELECT COUNT(*) FROM outbox WHERE state IN ('waiting', 'queued', 'sending')").pluck().get() as number
    } finally {
      db.close()
    }
  }
  for (let pending = pendingCount(); pending > 0; pending = pendingCount()) {
    if (Date.now() - drainStarted > 240_000) throw new Error(`the outbox did not drain: ${pending} messages left`)
    await sleep(1_000)
  }
  t.comment(`outbox drained ${Math.round((Date.now() - drainStarted) / 1000)} s after the last writes`)
  const last = server as ServerProcess | null
  last!.child.kill('SIGTERM')
  t.same(await last!.exited, { code: 0, signal: null }, 'the last run stops cleanly on SIGTERM')

  // ---- The end state, and every invitation received exactly once. ----
  const end = checkDatabase(t, 'at the end')
  t.same(Object.keys(end.states).filter((s) => s !== 'sent' && s !== 'superseded'), [], `every message is sent or was superseded before it went out (${JSON.stringify(end.states)})`)
  const db = new Database(dbFile, { readonly: true, fileMustExist: true })
  try {
    const rows = db.prepare('SELECT id, follow_up_id AS followUpId, recipient, kind, sequence, snapshot, state, message_id AS messageId, last_error AS lastError FROM outbox').all() as {
      id: number
      followUpId: number
      recipient: string
      kind: 'request' | 'cancel'
      sequence: number
      snapshot: string
      state: string
      messageId: string
      lastError: string
    }[]
    t.same(rows.filter((r) => r.state === 'failed').map((r) => `${r.id} ${r.recipient}: ${r.lastError}`), [], 'no message failed')
    const received = new Map<string, ReceivedMail[]>()
    for (const mail of smtp.mails) {
      const id = bare(mail.parsed.messageId)
      received.set(id, [...(received.get(id) ?? []), mail])
    }
    const duplicates: string[] = []
    const missing: string[] = []
    const wrong: string[] = []
    const known = new Set<string>()
    for (const row of rows) {
      const id = bare(row.messageId)
      known.add(id)
      const got = received.get(id) ?? []
      if (row.state === 'sent' && got.length === 0) missing.push(`${row.messageId} (outbox ${row.id}, ${row.kind} to ${row.recipient})`)
      if (row.state === 'sent' && got.length > 1) duplicates.push(`${row.messageId} (outbox ${row.id}, ${row.kind} to ${row.recipient}) received ${got.length} times`)
      if (row.state !== 'sent' && got.length > 0) wrong.push(`${row.messageId} (outbox ${row.id}, ${row.state}) was received`)
      const snapshot = JSON.parse(row.snapshot) as { uid: string; sequence: number }
      for (const mail of got) {
        const ics = calendarOf(mail)
        if (mail.to.join() !== row.recipient || ics.uid !== snapshot.uid || ics.sequence !== row.sequence || ics.method !== (row.kind === 'cancel' ? 'CANCEL' : 'REQUEST')) {
          wrong.push(`${row.messageId}: to ${mail.to.join()}, ${ics.method} ${ics.uid} #${ics.sequence}; the outbox row says ${row.kind} to ${row.recipient} ${snapshot.uid} #${row.sequence}`)
        }
      }
    }
    for (const id of received.keys()) if (!known.has(id)) wrong.push(`<${id}> matches no outbox row`)
    const invitations = new Map<string, number>()
    for (const mail of smtp.mails) {
      const ics = calendarOf(mail)
      const key = `${ics.method} ${ics.uid} #${ics.sequence} to ${mail.to.join()}`
      invitations.set(key, (invitations.get(key) ?? 0) + 1)
    }
    const sent = rows.filter((r) => r.state === 'sent').length
    t.same(duplicates, [], `no Message-ID received twice (${smtp.mails.length} mails for ${sent} sent messages)`)
    t.same([...invitations].filter(([, n]) => n > 1).map(([key, n]) => `${key}: ${n} times`), [], 'no invitation (method, UID, SEQUENCE, recipient) received twice')
    t.same(missing, [], 'every message marked sent was received')
    t.same(wrong, [], 'every mail received is the message its outbox row describes')
    t.equal(smtp.mails.length, sent, 'as many mails received as messages sent')

    // Every acknowledged follow-up's attendees got the invitation to its final version.
    const undelivered: string[] = []
    for (const f of followUps) {
      const row = db.prepare('SELECT title, ical_uid AS uid FROM follow_ups WHERE id = ?').get(Number(f.key.slice(3))) as { title: string; uid: string }
      for (const attendee of contents.get(row.title)!.attendees) {
        const got = smtp.mails.some((m) => m.to.join() === attendee && calendarOf(m).uid === row.uid && m.parsed.subject?.includes(row.title))
        if (!got) undelivered.push(`${f.key} "${row.title}" to ${attendee}`)
      }
    }
    t.same(undelivered.slice(0, 20), [], `every acknowledged follow-up's attendees received its final invitation (${followUps.length} follow-ups)`)

    // An attendee removed (or a follow-up deleted) while the invitation was still queued: it must not go out.
    const current = new Map((db.prepare('SELECT ical_uid AS uid, id FROM follow_ups WHERE ical_uid IS NOT NULL').all() as { uid: string; id: number }[]).map((r) => [r.uid, r.id]))
    const attendeeSet = new Set((db.prepare('SELECT follow_up_id || \' \' || email FROM attendees').pluck().all() as string[]))
    const lastMethod = new Map<string, { method: string; sequence: number }>()
    for (const mail of smtp.mails) {
      const ics = calendarOf(mail)
      const key = `${ics.uid} ${mail.to.join()}`
      const before = lastMethod.get(key)
      if (!before || before.sequence <= ics.sequence) lastMethod.set(key, { method: ics.method, sequence: ics.sequence })
    }
    const stale = [...lastMethod].filter(([key, last]) => {
      const [uid, recipient] = key.split(' ')
      return last.method === 'REQUEST' && !attendeeSet.has(`${current.get(uid!)} ${recipient}`)
    })
    t.same(stale.map(([key]) => key).slice(0, 5), [], `no one who is not an attendee is left with an invitation (${stale.length} are)`)
  } finally {
    db.close()
  }
  t.comment(`whole test: ${Math.round((Date.now() - started) / 1000)} s`)
})
