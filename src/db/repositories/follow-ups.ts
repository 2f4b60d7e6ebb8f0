import crypto from 'node:crypto'
import type { Db } from '../database.js'
import type { DialIn, MeetingState } from '../../meetings/types.js'
import type { Language } from '../../i18n/languages.js'
import type { OutboxRepository } from '../../mail/outbox.js'
import type { InvitationSnapshot } from '../../mail/invitation.js'

export type { MeetingState }

export interface Meeting {
  followUpId: number
  provider: string
  connectionId: number | null
  requestId: string
  externalId: string
  joinUrl: string
  passcode: string
  dialIn: DialIn[]
  state: MeetingState
  syncedVersion: number
  lastError: string
  createUnknown: boolean
  updatedAt: string
}

export interface FollowUp {
  id: number
  userId: number
  typeId: number | null
  typeName: string | null
  title: string
  startsAt: string
  endsAt: string
  timeZone: string
  location: string
  description: string
  video: boolean
  version: number
  deleted: boolean
  attendees: string[]
  attendeeDetails: Attendee[]
  icalUid: string | null
  icalSequence: number
  meeting: Meeting | null
}

export interface FollowUpInput {
  typeId: number | null
  title: string
  startsAt: string
  endsAt: string
  timeZone: string
  location: string
  description: string
  video: boolean
  attendees: string[]
  /** Attendees who get no email invitation (per-attendee off). */
  uninvited?: string[]
}

/** Whether and how a change is mailed to the attendees. */
export interface MailIntent {
  /** Send invitations (new attendees, and everyone after a change). Cancellations always go out. */
  send: boolean
  organizer: { name: string; email: string }
  language: Language
}

export interface Attendee {
  email: string
  invite: boolean
  /** An invitation was sent (or is being sent): removing them sends a cancellation. */
  invited: boolean
}

export interface FollowUpType {
  id: number
  name: string
  videoDefault: boolean
  position: number
}

interface FollowUpRow {
  id: number
  user_id: number
  type_id: number | null
  type_name: string | null
  title: string
  starts_at: string
  ends_at: string
  time_zone: string
  location: string
  description: string
  video: number
  version: number
  deleted_at: string | null
  ical_uid: string | null
  ical_sequence: number
}

interface MeetingRow {
  follow_up_id: number
  provider: string
  connection_id: number | null
  request_id: string
  external_id: string
  join_url: string
  passcode: string
  dial_in: string
  state: MeetingState
  synced_version: number
  last_error: string
  create_unknown: number
  updated_at: string
}

interface ListRow {
  id: number
  title: string
  startsAt: string
  endsAt: string
  location: string
  video: number
  meetingState: MeetingState | null
  joinUrl: string | null
}

export interface ListItem {
  id: number
  title: string
  startsAt: string
  endsAt: string
  location: string
  video: boolean
  meetingState: MeetingState | null
  joinUrl: string
}

const SELECT_FOLLOW_UP = `SELECT f.id, f.user_id, f.type_id, t.name AS type_name, f.title, f.starts_at, f.ends_at, f.time_zone,
  f.location, f.description, f.video, f.version, f.deleted_at, f.ical_uid, f.ical_sequence
  FROM follow_ups f LEFT JOIN follow_up_types t ON t.id = f.type_id`

export function toMeeting(row: MeetingRow): Meeting {
  return {
    followUpId: row.follow_up_id,
    provider: row.provider,
    connectionId: row.connection_id,
    requestId: row.request_id,
    externalId: row.external_id,
    joinUrl: row.join_url,
    passcode: row.passcode,
    dialIn: JSON.parse(row.dial_in) as DialIn[],
    state: row.state,
    syncedVersion: row.synced_version,
    lastError: row.last_error,
    createUnknown: row.create_unknown === 1,
    updatedAt: row.updated_at,
  }
}

/**
 * Follow-ups, their attendees and their provider meeting. Every query is scoped to its owner: a user can
 * only ever reach their own follow-ups. Changes that the provider must hear about bump `version` and queue
 * a sync job in the same transaction, so a saved change is never lost even if the provider is down.
 */
export function createFollowUpRepository(db: Db, now: () => number = Date.now, outbox?: OutboxRepository) {
  const byIdForUser = db.prepare<[number, number], FollowUpRow>(`${SELECT_FOLLOW_UP} WHERE f.id = ? AND f.user_id = ? AND f.deleted_at IS NULL`)
  const byIdAny = db.prepare<[number], FollowUpRow>(`${SELECT_FOLLOW_UP} WHERE f.id = ?`)
  const attendeesOf = db.prepare<[number], { email: string; invite: number; invited: number }>('SELECT email, invite, invited FROM attendees WHERE follow_up_id = ? ORDER BY id')
  const setUid = db.prepare('UPDATE follow_ups SET ical_uid = ? WHERE id = ? AND ical_uid IS NULL')
  const setSequence = db.prepare('UPDATE follow_ups SET ical_sequence = ? WHERE id = ?')
  const everMailed = db.prepare<[number], number>('SELECT COUNT(*) FROM outbox WHERE follow_up_id = ?').pluck()
  const meetingOf = db.prepare<[number], MeetingRow>('SELECT * FROM meetings WHERE follow_up_id = ?')
  const upcoming = db.prepare<[number, string, number, number], ListRow>(
    `SELECT f.id, f.title, f.starts_at AS startsAt, f.ends_at AS endsAt, f.location, f.video, m.state AS meetingState, m.join_url AS joinUrl
     FROM follow_ups f LEFT JOIN meetings m ON m.follow_up_id = f.id
     WHERE f.user_id = ? AND f.deleted_at IS NULL AND f.ends_at >= ? ORDER BY f.starts_at, f.id LIMIT ? OFFSET ?`,
  )
  const past = db.prepare<[number, string, number, number], ListRow>(
    `SELECT f.id, f.title, f.starts_at AS startsAt, f.ends_at AS endsAt, f.location, f.video, m.state AS meetingState, m.join_url AS joinUrl
     FROM follow_ups f LEFT JOIN meetings m ON m.follow_up_id = f.id
     WHERE f.user_id = ? AND f.deleted_at IS NULL AND f.ends_at < ? ORDER BY f.starts_at DESC, f.id DESC LIMIT ? OFFSET ?`,
  )
  const countUpcoming = db.prepare<[number, string], number>('SELECT COUNT(*) FROM follow_ups WHERE user_id = ? AND deleted_at IS NULL AND ends_at >= ?').pluck()
  const countPast = db.prepare<[number, string], number>('SELECT COUNT(*) FROM follow_ups WHERE user_id = ? AND deleted_at IS NULL AND ends_at < ?').pluck()
  const insert = db.prepare(
    `INSERT INTO follow_ups (user_id, type_id, title, starts_at, ends_at, time_zone, location, description, video)
     VALUES (@userId, @typeId, @title, @startsAt, @endsAt, @timeZone, @location, @description, @video)`,
  )
  const update = db.prepare(
    `UPDATE follow_ups SET type_id = @typeId, title = @title, starts_at = @startsAt, ends_at = @endsAt, time_zone = @timeZone,
       location = @location, description = @description, video = @video, version = version + @bump,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE id = @id AND user_id = @userId AND deleted_at IS NULL`,
  )
  const softDelete = db.prepare(
    `UPDATE follow_ups SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), version = version + 1 WHERE id = ? AND user_id = ? AND deleted_at IS NULL`,
  )
  const purge = db.prepare('DELETE FROM follow_ups WHERE id = ? AND deleted_at IS NOT NULL')
  const clearAttendees = db.prepare('DELETE FROM attendees WHERE follow_up_id = ?')
  const addAttendee = db.prepare('INSERT OR IGNORE INTO attendees (follow_up_id, email, invite, invited) VALUES (?, ?, ?, ?)')
  const insertMeeting = db.prepare(
    `INSERT INTO meetings (follow_up_id, provider, request_id, state) VALUES (?, ?, ?, 'pending')
     ON CONFLICT (follow_up_id) DO UPDATE SET
       provider = CASE WHEN meetings.state = 'deleted' THEN excluded.provider ELSE meetings.provider END,
       request_id = CASE WHEN meetings.state = 'deleted' THEN excluded.request_id ELSE meetings.request_id END,
       external_id = CASE WHEN meetings.state = 'deleted' THEN '' ELSE meetings.external_id END,
       join_url = CASE WHEN meetings.state = 'deleted' THEN '' ELSE meetings.join_url END,
       state = CASE WHEN meetings.state IN ('deleted', 'failed') THEN 'pending' ELSE meetings.state END,
       last_error = CASE WHEN meetings.state IN ('deleted', 'failed') THEN '' ELSE meetings.last_error END`,
  )
  const enqueue = db.prepare(
    `INSERT INTO jobs (kind, follow_up_id, run_at) VALUES ('meeting.sync', ?, ?)
     ON CONFLICT (kind, follow_up_id) DO UPDATE SET run_at = CASE WHEN excluded.run_at = jobs.run_at THEN excluded.run_at + 1 ELSE excluded.run_at END, attempts = 0`,
  )
  const event = db.prepare('INSERT INTO meeting_events (follow_up_id, event, detail) VALUES (?, ?, ?)')
  const events = db.prepare<[number], { at: string; event: string; detail: string }>('SELECT at, event, detail FROM meeting_events WHERE follow_up_id = ? ORDER BY id DESC LIMIT 20')
  const meetingReady = db.prepare(
    `UPDATE meetings SET external_id = @externalId, join_url = @joinUrl, passcode = @passcode, dial_in = @dialIn,
       state = @state, synced_version = @syncedVersion, connection_id = @connectionId, last_error = '', create_unknown = 0,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE follow_up_id = @followUpId`,
  )
  const fillLocation = db.prepare("UPDATE follow_ups SET location = ? WHERE id = ? AND location = ''")
  const meetingState = db.prepare(
    "UPDATE meetings SET state = ?, last_error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE follow_up_id = ?",
  )
  const meetingCreateUnknown = db.prepare('UPDATE meetings SET create_unknown = ?, connection_id = COALESCE(?, connection_id) WHERE follow_up_id = ?')
  const meetingDeleted = db.prepare(
    `UPDATE meetings SET state = 'deleted', external_id = '', join_url = '', passcode = '', dial_in = '[]', last_error = '',
       synced_version = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE follow_up_id = ?`,
  )
  const types = db.prepare<[], { id: number; name: string; video_default: number; position: number }>('SELECT * FROM follow_up_types ORDER BY position, name')
  const insertType = db.prepare('INSERT INTO follow_up_types (name, video_default, position) VALUES (?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM follow_up_types))')
  const updateType = db.prepare('UPDATE follow_up_types SET name = ?, video_default = ? WHERE id = ?')
  const deleteType = db.prepare('DELETE FROM follow_up_types WHERE id = ?')

  const model = (row: FollowUpRow): FollowUp => {
    const meeting = meetingOf.get(row.id)
    const attendees = attendeesOf.all(row.id).map((a) => ({ email: a.email, invite: a.invite === 1, invited: a.invited === 1 }))
    return {
      id: row.id,
      userId: row.user_id,
      typeId: row.type_id,
      typeName: row.type_name,
      title: row.title,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      timeZone: row.time_zone,
      location: row.location,
      description: row.description,
      video: row.video === 1,
      version: row.version,
      deleted: row.deleted_at !== null,
      attendees: attendees.map((a) => a.email),
      attendeeDetails: attendees,
      icalUid: row.ical_uid,
      icalSequence: row.ical_sequence,
      meeting: meeting ? toMeeting(meeting) : null,
    }
  }

  /** Replaces the attendee list, keeping who was already invited; `uninvited` ones get no invitation. */
  const setAttendees = (id: number, emails: string[], uninvited: string[] | undefined) => {
    const before = new Map(attendeesOf.all(id).map((a) => [a.email.toLowerCase(), a]))
    const off = uninvited && new Set(uninvited.map((e) => e.toLowerCase()))
    clearAttendees.run(id)
    for (const email of emails) {
      const previous = before.get(email.toLowerCase())
      const invite = off ? !off.has(email.toLowerCase()) : previous ? previous.invite === 1 : true
      addAttendee.run(id, email, invite ? 1 : 0, previous?.invited ?? 0)
    }
  }

  /**
   * Queues the emails a change causes, inside its transaction: invitations (REQUEST) to the attendees
   * who get them, updates to everyone who already has one, cancellations to removed attendees and, on
   * delete, to everyone invited. Same UID always; SEQUENCE grows with every change that is mailed.
   */
  const queueMail = (id: number, userId: number, mail: MailIntent, before: { row: FollowUpRow; attendees: Map<string, { email: string; invited: number }> } | null, deleting: boolean) => {
    if (!outbox) return
    const row = byIdAny.get(id)!
    const attendees = attendeesOf.all(id)
    const reached = (email: string) => before?.attendees.get(email.toLowerCase())?.invited === 1 || outbox.reached(id, email)
    const current = new Set(attendees.map((a) => a.email.toLowerCase()))
    const removed = before ? [...before.attendees.keys()].filter((email) => !current.has(email) && reached(email)) : []
    const contentChanged = !before || ['title', 'starts_at', 'ends_at', 'time_zone', 'location', 'description', 'video'].some((k) => before.row[k as keyof FollowUpRow] !== row[k as keyof FollowUpRow])
    let requests: string[] = []
    let cancels = removed
    if (deleting) cancels = [...new Set([...removed, ...attendees.filter((a) => reached(a.email)).map((a) => a.email)])]
    else {
      requests = attendees.filter((a) => a.invite === 1 && (mail.send || reached(a.email))).map((a) => a.email)
      // Nothing about the meeting changed: only people who do not have the invitation yet get it.
      if (!contentChanged) requests = requests.filter((email) => !reached(email))
    }
    // Whoever is no longer to be invited and was not reached yet: their queued invitation must not go out
    // (nor does a cancellation, for a meeting they never heard of).
    const stillInvited = new Set(deleting ? [] : attendees.filter((a) => a.invite === 1).map((a) => a.email.toLowerCase()))
    for (const [key, attendee] of before?.attendees ?? []) {
      if (!stillInvited.has(key) && !reached(attendee.email)) outbox.withdraw(id, attendee.email)
    }
    if (requests.length === 0 && cancels.length === 0) return
    const uid = row.ical_uid ?? `${crypto.randomUUID()}@video-meetings`
    setUid.run(uid, id)
    const sequence = everMailed.get(id)! > 0 ? row.ical_sequence + 1 : 0
    setSequence.run(sequence, id)
    const meeting = meetingOf.get(id)
    const snapshot = (attendeeList: string[]): InvitationSnapshot => ({
      uid,
      sequence,
      title: row.title,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      timeZone: row.time_zone,
      location: row.location,
      description: row.description,
      video: row.video === 1 && !deleting,
      organizer: mail.organizer,
      attendees: attendeeList,
      language: mail.language,
    })
    const invitees = attendees.filter((a) => a.invite === 1).map((a) => a.email)
    const waiting = row.video === 1 && !deleting && (!meeting || meeting.state !== 'ready' || !meeting.join_url)
    for (const recipient of requests) outbox.queue({ followUpId: id, userId, recipient, kind: 'request', snapshot: snapshot(invitees), waiting })
    for (const recipient of cancels) outbox.queue({ followUpId: id, userId, recipient, kind: 'cancel', snapshot: snapshot(deleting ? invitees : [recipient]), waiting: false })
  }

  const beforeOf = (id: number, userId: number) => {
    const row = byIdForUser.get(id, userId)
    return row && { row, attendees: new Map(attendeesOf.all(id).map((a) => [a.email.toLowerCase(), a])) }
  }

  return {
    getForUser(id: number, userId: number): FollowUp | undefined {
      const row = byIdForUser.get(id, userId)
      return row && model(row)
    },
    /** Including deleted ones: for the sync job, which must still remove their meeting. */
    getAny(id: number): FollowUp | undefined {
      const row = byIdAny.get(id)
      return row && model(row)
    },
    list(userId: number, which: 'upcoming' | 'past', limit: number, offset: number): { items: ListItem[]; total: number } {
      const at = new Date(now()).toISOString()
      const rows = (which === 'upcoming' ? upcoming : past).all(userId, at, limit, offset)
      return {
        total: (which === 'upcoming' ? countUpcoming : countPast).get(userId, at)!,
        items: rows.map((r) => ({ ...r, video: r.video === 1, joinUrl: r.joinUrl ?? '' })),
      }
    },
    /** Creates the follow-up; with video on, its meeting starts as pending and a sync job is queued. */
    create(userId: number, input: FollowUpInput, provider: string | null, mail?: MailIntent): number {
      return db
        .transaction(() => {
          const id = Number(insert.run({ ...input, userId, video: input.video ? 1 : 0 }).lastInsertRowid)
          setAttendees(id, input.attendees, input.uninvited)
          if (input.video && provider) {
            insertMeeting.run(id, provider, crypto.randomUUID())
            enqueue.run(id, now())
            event.run(id, 'created', '')
          }
          if (mail) queueMail(id, userId, mail, null, false)
          return id
        })
        .immediate()
    },
    /** Saves the changes; returns false when the follow-up is not this user's (or gone). */
    update(id: number, userId: number, input: FollowUpInput, provider: string | null, mail?: MailIntent): boolean {
      return db
        .transaction(() => {
          const snapshotBefore = beforeOf(id, userId)
          const before = snapshotBefore?.row
          if (!before) return false
          const meeting = meetingOf.get(id)
          const providerCares =
            before.title !== input.title || before.starts_at !== input.startsAt || before.ends_at !== input.endsAt ||
            before.time_zone !== input.timeZone || before.description !== input.description || (before.video === 1) !== input.video
          update.run({ ...input, id, userId, video: input.video ? 1 : 0, bump: providerCares ? 1 : 0 })
          setAttendees(id, input.attendees, input.uninvited)
          if (input.video && provider && (!meeting || meeting.state === 'deleted' || meeting.state === 'failed')) insertMeeting.run(id, provider, crypto.randomUUID())
          const needsSync = providerCares && (input.video || (meeting && meeting.state !== 'deleted'))
          if (needsSync || (input.video && (!meeting || meeting.state !== 'ready'))) enqueue.run(id, now())
          if (providerCares) event.run(id, 'changed', '')
          if (mail) queueMail(id, userId, mail, snapshotBefore, false)
          return true
        })
        .immediate()
    },
    /** Deleting keeps the row until the provider meeting is gone (the job purges it then). */
    delete(id: number, userId: number, mail?: MailIntent): boolean {
      return db
        .transaction(() => {
          const snapshotBefore = beforeOf(id, userId)
          if (softDelete.run(id, userId).changes === 0) return false
          if (mail) queueMail(id, userId, mail, snapshotBefore ?? null, true)
          const meeting = meetingOf.get(id)
          if (meeting && meeting.state !== 'deleted' && meeting.external_id) {
            enqueue.run(id, now())
            event.run(id, 'deleted', '')
          } else purge.run(id)
          return true
        })
        .immediate()
    },
    /** The provider answered: keep its meeting, and put the link in Location when Location was left empty. */
    saveMeeting(id: number, ref: { externalId: string; joinUrl: string; passcode?: string; dialIn?: DialIn[]; pending?: boolean }, syncedVersion: number, connectionId: number | null): void {
      db.transaction(() => {
        meetingReady.run({
          followUpId: id,
          externalId: ref.externalId,
          joinUrl: ref.joinUrl,
          passcode: ref.passcode ?? '',
          dialIn: JSON.stringify(ref.dialIn ?? []),
          state: ref.pending || !ref.joinUrl ? 'pending' : 'ready',
          syncedVersion,
          connectionId,
        })
        if (ref.joinUrl) fillLocation.run(ref.joinUrl, id)
      })()
    },
    setMeetingState(id: number, state: MeetingState, lastError = ''): void {
      meetingState.run(state, lastError.slice(0, 500), id)
    },
    /** Set before a create is sent and cleared when its answer arrives: if the answer is lost, we know. */
    setCreateUnknown(id: number, unknown: boolean, connectionId: number | null = null): void {
      meetingCreateUnknown.run(unknown ? 1 : 0, connectionId, id)
    },
    markMeetingDeleted(id: number, syncedVersion: number): void {
      meetingDeleted.run(syncedVersion, id)
    },
    purgeDeleted(id: number): void {
      purge.run(id)
    },
    events(id: number) {
      return events.all(id)
    },
    recordEvent(id: number, name: string, detail = ''): void {
      event.run(id, name, detail)
    },
    /** Queues (or re-queues) the sync; a job being run meanwhile is not completed but runs again. */
    enqueueSync(id: number, at = now()): void {
      enqueue.run(id, at)
    },
    types(): FollowUpType[] {
      return types.all().map((r) => ({ id: r.id, name: r.name, videoDefault: r.video_default === 1, position: r.position }))
    },
    createType(name: string, videoDefault: boolean): void {
      insertType.run(name, videoDefault ? 1 : 0)
    },
    updateType(id: number, name: string, videoDefault: boolean): boolean {
      return updateType.run(name, videoDefault ? 1 : 0, id).changes === 1
    },
    deleteType(id: number): boolean {
      return deleteType.run(id).changes === 1
    },
  }
}

export type FollowUpRepository = ReturnType<typeof createFollowUpRepository>
