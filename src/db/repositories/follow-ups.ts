import type { Db } from '../database.js'
import type { Appointment } from '../../model/appointment.js'
import type { MeetingState } from '../../model/meeting.js'
import { toMeeting, type Meeting, type MeetingRow } from './meetings.js'

export type { Meeting, MeetingState }

export interface Attendee {
  email: string
  invite: boolean
  /** An invitation was sent (or is being sent): removing them sends a cancellation. */
  invited: boolean
}

export interface FollowUp extends Appointment {
  id: number
  userId: number
  typeId: number | null
  typeName: string | null
  version: number
  deleted: boolean
  attendees: string[]
  attendeeDetails: Attendee[]
  /** The calendar identity of this follow-up's invitations, fixed at creation. */
  icalUid: string
  icalSequence: number
  /** The organizer the invitation was first sent with; later ones keep it (null: never sent). */
  icalOrganizer: { name: string; email: string } | null
  /** Location holds the join link we put there (ours to replace or clear), not words the user typed. */
  locationIsLink: boolean
  meeting: Meeting | null
}

export interface FollowUpInput extends Appointment {
  typeId: number | null
  attendees: string[]
  /** Attendees who get no email invitation (per-attendee off). */
  uninvited?: string[]
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
  ical_organizer: string | null
  location_is_link: number
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
  f.location, f.description, f.video, f.version, f.deleted_at, f.ical_uid, f.ical_sequence, f.ical_organizer, f.location_is_link
  FROM follow_ups f LEFT JOIN follow_up_types t ON t.id = f.type_id`

/**
 * Follow-ups and their attendees: stores and reads, nothing more (what a save means is the follow-up service's,
 * src/follow-ups/service.ts). Every query for a page is scoped to its owner: a user only ever reaches their own
 * follow-ups; getAny is for the workers.
 */
export function createFollowUpRepository(db: Db, now: () => number = Date.now) {
  const byIdForUser = db.prepare<[number, number], FollowUpRow>(`${SELECT_FOLLOW_UP} WHERE f.id = ? AND f.user_id = ? AND f.deleted_at IS NULL`)
  const byIdAny = db.prepare<[number], FollowUpRow>(`${SELECT_FOLLOW_UP} WHERE f.id = ?`)
  const attendeesOf = db.prepare<[number], { email: string; invite: number; invited: number }>('SELECT email, invite, invited FROM attendees WHERE follow_up_id = ? ORDER BY id')
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
    `INSERT INTO follow_ups (user_id, type_id, title, starts_at, ends_at, time_zone, location, description, video, ical_uid)
     VALUES (@userId, @typeId, @title, @startsAt, @endsAt, @timeZone, @location, @description, @video, @icalUid)`,
  )
  const update = db.prepare(
    `UPDATE follow_ups SET type_id = @typeId, title = @title, starts_at = @startsAt, ends_at = @endsAt, time_zone = @timeZone,
       location = @location, location_is_link = @locationIsLink, description = @description, video = @video,
       version = version + @bump, ical_sequence = ical_sequence + @significant,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE id = @id AND user_id = @userId AND deleted_at IS NULL`,
  )
  const softDelete = db.prepare(
    `UPDATE follow_ups SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), version = version + 1 WHERE id = ? AND user_id = ? AND deleted_at IS NULL`,
  )
  const purge = db.prepare('DELETE FROM follow_ups WHERE id = ? AND deleted_at IS NOT NULL')
  const placeLink = db.prepare("UPDATE follow_ups SET location = ?, location_is_link = 1 WHERE id = ? AND (location = '' OR location_is_link = 1)")
  const bumpSequence = db.prepare('UPDATE follow_ups SET ical_sequence = ical_sequence + 1 WHERE id = ?')
  const keepOrganizer = db.prepare('UPDATE follow_ups SET ical_organizer = COALESCE(ical_organizer, ?) WHERE id = ?')

  const clearAttendees = db.prepare('DELETE FROM attendees WHERE follow_up_id = ?')
  const addAttendee = db.prepare('INSERT OR IGNORE INTO attendees (follow_up_id, email, invite, invited) VALUES (?, ?, ?, ?)')
  const markInvited = db.prepare('UPDATE attendees SET invited = 1 WHERE follow_up_id = ? AND email = ?')

  const attendees = (id: number): Attendee[] => attendeesOf.all(id).map((a) => ({ email: a.email, invite: a.invite === 1, invited: a.invited === 1 }))

  const model = (row: FollowUpRow): FollowUp => {
    const meeting = meetingOf.get(row.id)
    const details = attendees(row.id)
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
      attendees: details.map((a) => a.email),
      attendeeDetails: details,
      // Every row has one since migration 007; the fallback is for a row written by hand.
      icalUid: row.ical_uid ?? `follow-up-${row.id}-${row.user_id}@video-meetings`,
      icalSequence: row.ical_sequence,
      icalOrganizer: row.ical_organizer ? (JSON.parse(row.ical_organizer) as { name: string; email: string }) : null,
      locationIsLink: row.location_is_link === 1,
      meeting: meeting ? toMeeting(meeting) : null,
    }
  }

  return {
    getForUser(id: number, userId: number): FollowUp | undefined {
      const row = byIdForUser.get(id, userId)
      return row && model(row)
    },
    /** Including deleted ones: for the workers, which must still remove their meeting and send cancellations. */
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
    insert(userId: number, input: FollowUpInput, icalUid: string): number {
      return Number(insert.run({ ...fields(input), userId, icalUid }).lastInsertRowid)
    },
    /**
     * `change.provider`: the provider must hear about it (the meeting's version rises). `change.significant`: a
     * change RFC 5546 calls significant (time, location, the meeting itself, who is invited): SEQUENCE rises.
     */
    update(id: number, userId: number, input: FollowUpInput, change: { provider: boolean; significant: boolean; locationIsLink: boolean }): boolean {
      return update.run({ ...fields(input), id, userId, bump: change.provider ? 1 : 0, significant: change.significant ? 1 : 0, locationIsLink: change.locationIsLink ? 1 : 0 }).changes === 1
    },
    softDelete(id: number, userId: number): boolean {
      return softDelete.run(id, userId).changes === 1
    },
    /** Removes a deleted follow-up for good (its meeting is gone). */
    purge(id: number): void {
      purge.run(id)
    },
    /** Puts the join link in Location when the user left it empty, or replaces the link we put there before. */
    placeLink(id: number, joinUrl: string): void {
      placeLink.run(joinUrl, id)
    },
    /** A cancellation of the whole follow-up: RFC 5546 counts it as a significant change. */
    bumpSequence(id: number): void {
      bumpSequence.run(id)
    },
    /** The organizer of the first invitation sent stays the organizer of every later one. */
    keepOrganizer(id: number, organizer: { name: string; email: string }): void {
      keepOrganizer.run(JSON.stringify(organizer), id)
    },
    attendees,
    /** Replaces the attendee list, keeping who was already invited; `uninvited` ones get no invitation. */
    setAttendees(id: number, emails: string[], uninvited: string[] | undefined): void {
      const before = new Map(attendeesOf.all(id).map((a) => [a.email.toLowerCase(), a]))
      const off = uninvited && new Set(uninvited.map((e) => e.toLowerCase()))
      clearAttendees.run(id)
      for (const email of emails) {
        const previous = before.get(email.toLowerCase())
        const invite = off ? !off.has(email.toLowerCase()) : previous ? previous.invite === 1 : true
        addAttendee.run(id, email, invite ? 1 : 0, previous?.invited ?? 0)
      }
    },
    /** The attendee has the invitation: a later removal sends them a cancellation. */
    markInvited(id: number, email: string): void {
      markInvited.run(id, email)
    },
  }
}

const fields = (input: FollowUpInput) => ({
  typeId: input.typeId,
  title: input.title,
  startsAt: input.startsAt,
  endsAt: input.endsAt,
  timeZone: input.timeZone,
  location: input.location,
  description: input.description,
  video: input.video ? 1 : 0,
})

export type FollowUpRepository = ReturnType<typeof createFollowUpRepository>
