import type { Db } from '../database.js'
import type { DialIn, MeetingState } from '../../model/meeting.js'

export interface Meeting {
  followUpId: number
  provider: string
  connectionId: number | null
  requestId: string
  externalId: string
  joinUrl: string
  passcode: string
  /** Digits for phones and video systems, where the provider has them ('' otherwise). */
  phonePasscode: string
  /** An ID to join by (Teams), '' otherwise. */
  meetingCode: string
  dialIn: DialIn[]
  state: MeetingState
  syncedVersion: number
  lastError: string
  createUnknown: boolean
  updatedAt: string
}

export interface MeetingRow {
  follow_up_id: number
  provider: string
  connection_id: number | null
  request_id: string
  external_id: string
  join_url: string
  passcode: string
  phone_passcode: string
  meeting_code: string
  dial_in: string
  state: MeetingState
  synced_version: number
  last_error: string
  create_unknown: number
  updated_at: string
}

export function toMeeting(row: MeetingRow): Meeting {
  return {
    followUpId: row.follow_up_id,
    provider: row.provider,
    connectionId: row.connection_id,
    requestId: row.request_id,
    externalId: row.external_id,
    joinUrl: row.join_url,
    passcode: row.passcode,
    phonePasscode: row.phone_passcode,
    meetingCode: row.meeting_code,
    dialIn: JSON.parse(row.dial_in) as DialIn[],
    state: row.state,
    syncedVersion: row.synced_version,
    lastError: row.last_error,
    createUnknown: row.create_unknown === 1,
    updatedAt: row.updated_at,
  }
}

/** What the provider answered about a meeting, as the meeting row keeps it. */
export interface ProviderMeeting {
  externalId: string
  joinUrl: string
  passcode?: string
  phonePasscode?: string
  meetingCode?: string
  dialIn?: DialIn[]
  /** Still being made at the provider (Google's conference): the link follows. */
  pending?: boolean
}

/**
 * Each follow-up's meeting at its provider, and that meeting's history (meeting_events). Stores and reads
 * only: when a meeting is scheduled, and what the provider's answers mean, is the follow-up service's and the
 * meeting worker's to decide.
 */
export function createMeetingRepository(db: Db) {
  const byFollowUp = db.prepare<[number], MeetingRow>('SELECT * FROM meetings WHERE follow_up_id = ?')
  // A meeting that was deleted (video off) or failed starts afresh, with a new request id; otherwise it is kept.
  const schedule = db.prepare(
    `INSERT INTO meetings (follow_up_id, provider, request_id, state) VALUES (?, ?, ?, 'pending')
     ON CONFLICT (follow_up_id) DO UPDATE SET
       provider = CASE WHEN meetings.state = 'deleted' THEN excluded.provider ELSE meetings.provider END,
       request_id = CASE WHEN meetings.state = 'deleted' THEN excluded.request_id ELSE meetings.request_id END,
       external_id = CASE WHEN meetings.state = 'deleted' THEN '' ELSE meetings.external_id END,
       join_url = CASE WHEN meetings.state = 'deleted' THEN '' ELSE meetings.join_url END,
       state = CASE WHEN meetings.state IN ('deleted', 'failed') THEN 'pending' ELSE meetings.state END,
       last_error = CASE WHEN meetings.state IN ('deleted', 'failed') THEN '' ELSE meetings.last_error END`,
  )
  const answered = db.prepare(
    `UPDATE meetings SET external_id = @externalId, join_url = @joinUrl, passcode = @passcode, phone_passcode = @phonePasscode,
       meeting_code = @meetingCode, dial_in = @dialIn,
       state = @state, synced_version = @syncedVersion, connection_id = @connectionId, last_error = '', create_unknown = 0,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
     WHERE follow_up_id = @followUpId`,
  )
  const setState = db.prepare("UPDATE meetings SET state = ?, last_error = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE follow_up_id = ?")
  const setCreateUnknown = db.prepare('UPDATE meetings SET create_unknown = ?, connection_id = COALESCE(?, connection_id) WHERE follow_up_id = ?')
  const deleted = db.prepare(
    `UPDATE meetings SET state = 'deleted', external_id = '', join_url = '', passcode = '', phone_passcode = '', meeting_code = '', dial_in = '[]', last_error = '',
       synced_version = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE follow_up_id = ?`,
  )
  const insertEvent = db.prepare('INSERT INTO meeting_events (follow_up_id, event, detail) VALUES (?, ?, ?)')
  const events = db.prepare<[number], { at: string; event: string; detail: string }>('SELECT at, event, detail FROM meeting_events WHERE follow_up_id = ? ORDER BY id DESC LIMIT 20')

  return {
    get(followUpId: number): Meeting | undefined {
      const row = byFollowUp.get(followUpId)
      return row && toMeeting(row)
    },
    /** A meeting to be made at `provider` (a fresh request id when the last one was deleted or failed). */
    schedule(followUpId: number, provider: string, requestId: string): void {
      schedule.run(followUpId, provider, requestId)
    },
    /** The provider answered with its meeting: ready when it has a link, else still pending. */
    saveAnswer(followUpId: number, ref: ProviderMeeting, syncedVersion: number, connectionId: number | null): void {
      answered.run({
        followUpId,
        externalId: ref.externalId,
        joinUrl: ref.joinUrl,
        passcode: ref.passcode ?? '',
        phonePasscode: ref.phonePasscode ?? '',
        meetingCode: ref.meetingCode ?? '',
        dialIn: JSON.stringify(ref.dialIn ?? []),
        state: ref.pending || !ref.joinUrl ? 'pending' : 'ready',
        syncedVersion,
        connectionId,
      })
    },
    setState(followUpId: number, state: MeetingState, lastError = ''): void {
      setState.run(state, lastError.slice(0, 500), followUpId)
    },
    /** Set before a create is sent and cleared when its answer arrives: if the answer is lost, we know. */
    setCreateUnknown(followUpId: number, unknown: boolean, connectionId: number | null = null): void {
      setCreateUnknown.run(unknown ? 1 : 0, connectionId, followUpId)
    },
    markDeleted(followUpId: number, syncedVersion: number): void {
      deleted.run(syncedVersion, followUpId)
    },
    events(followUpId: number) {
      return events.all(followUpId)
    },
    recordEvent(followUpId: number, name: string, detail = ''): void {
      insertEvent.run(followUpId, name, detail)
    },
  }
}

export type MeetingRepository = ReturnType<typeof createMeetingRepository>
