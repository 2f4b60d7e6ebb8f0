import type { Log } from '../log.js'
import { createWorkerLoop } from '../workers/loop.js'
import type { FollowUpRepository } from '../db/repositories/follow-ups.js'
import type { Transact } from '../db/transaction.js'
import type { VideoAccess } from '../connections/video-services.js'
import { buildInvitation, meetingDetailsOf, type MeetingDetails } from './invitation.js'
import type { OutboxMessage, OutboxRepository } from '../db/repositories/outbox.js'
import { encodeMailReason } from './reason.js'
import { translator } from '../i18n/index.js'
import type { EffectiveMailSettings, MailSettingsRepository } from '../db/repositories/mail-settings.js'
import { createTransport, DEFAULT_TIMEOUTS, describeSmtpError, type MailTimeouts, type SendResult } from './transport.js'

/** What a failed send stores: its reason as data (said in the reader's language later), else its English text. */
const stored = (result: SendResult): string => (result.reason ? encodeMailReason(result.reason) : result.detail)

/** Attempts before a message is marked failed (the user can still press Retry). */
export const MAX_MAIL_ATTEMPTS = 8
const LOCK_MS = 120_000

export function mailBackoffMs(attempts: number): number {
  return Math.min(30_000 * 2 ** attempts, 3_600_000)
}

export interface MailerDeps {
  transact: Transact
  outbox: OutboxRepository
  settings: MailSettingsRepository
  followUps: FollowUpRepository
  video: VideoAccess
  log: Log
  now?: () => number
  timeouts?: MailTimeouts
}

/** The outbox worker: sends queued invitations through each organizer's own mail server. */
export function createMailer(deps: MailerDeps) {
  const { outbox, log, transact } = deps
  const now = deps.now ?? Date.now
  const timeouts = deps.timeouts ?? DEFAULT_TIMEOUTS

  /** An invitation the attendee has: their later removal sends a cancellation. */
  function invited(message: OutboxMessage): void {
    if (message.kind === 'request' && message.followUpId !== null) deps.followUps.markInvited(message.followUpId, message.recipient)
  }

  function meetingFor(message: OutboxMessage): MeetingDetails | null | 'not_ready' {
    if (message.kind === 'cancel' || !message.snapshot.video || message.followUpId === null) return null
    return meetingDetailsOf(deps.followUps.getAny(message.followUpId)?.meeting, (id) => deps.video.adapter(id)?.name ?? id) ?? 'not_ready'
  }

  /**
   * `onHandOff` runs synchronously once the mail server has been given the whole message and before the final
   * "." that lets it accept the message: the message stream's 'end' listener, added before nodemailer pipes the
   * stream into the connection, runs before the pipe ends the SMTP data stream, which is what writes the ".".
   */
  async function send(
    settings: EffectiveMailSettings,
    mail: Parameters<ReturnType<typeof createTransport>['sendMail']>[0],
    onHandOff?: () => void,
  ): Promise<SendResult> {
    const transport = createTransport(settings, timeouts)
    if (onHandOff) {
      transport.use('stream', (compiled, done) => {
        compiled.message.processFunc((input) => {
          input.once('end', onHandOff)
          return input
        })
        done()
      })
    }
    try {
      const info = await transport.sendMail(mail)
      return { ok: true, transient: false, detail: String(info.response ?? 'accepted').slice(0, 300) }
    } catch (error) {
      return describeSmtpError(error)
    } finally {
      transport.close()
    }
  }

  async function deliver(message: OutboxMessage): Promise<void> {
    const settings = deps.settings.effective(message.userId)
    if (!settings) return outbox.markFailed(message, encodeMailReason({ code: 'no_settings' }))
    if (settings.passwordUnreadable) return outbox.markFailed(message, encodeMailReason({ code: 'password_unreadable' }))
    const meeting = meetingFor(message)
    if (meeting === 'not_ready') return outbox.markWaiting(message)
    const s = message.snapshot
    const invitation = buildInvitation(s, message.kind, meeting)
    const method = message.kind === 'cancel' ? 'CANCEL' : 'REQUEST'
    const viaInstallation = settings.source === 'installation'
    const result = await send(settings, {
      messageId: message.messageId,
      // Through the installation's server the address is the installation's and the name says so ("Bob (via Video
      // Meetings)"), so it does not read like someone else using Bob's name; replies still reach Bob.
      from: { name: viaInstallation ? translator(s.language)('invitation.via', { name: s.organizer.name, service: settings.fromName }) : settings.fromName, address: settings.fromAddress },
      ...(viaInstallation && { replyTo: { name: s.organizer.name, address: s.organizer.email } }),
      to: message.recipient,
      subject: invitation.subject,
      text: invitation.text,
      html: invitation.html,
      // Nodemailer sends this as the text/calendar alternative and once as an attachment (named here): the calendar
      // goes out twice in one mail, never three times.
      icalEvent: { method, content: invitation.ics, filename: message.kind === 'cancel' ? 'cancellation.ics' : 'invitation.ics' },
    }, () => {
      // Recorded before the server can accept the message, so a crash from here on never sends it twice.
      try {
        if (!outbox.handedOff(message)) log.warn({ outboxId: message.id }, 'invitation handed to the mail server after its lease was lost')
      } catch (error) {
        // Not recorded: a crash now would send it again (at least once), as before.
        log.error({ err: error, outboxId: message.id }, 'could not record that an invitation was handed to the mail server')
      }
    })
    if (result.ok) {
      transact(() => {
        if (outbox.markSent(message, result.detail)) invited(message)
      })
      log.info({ outboxId: message.id, followUpId: message.followUpId, kind: message.kind }, 'invitation sent')
    } else if (result.transient && message.attempts + 1 < MAX_MAIL_ATTEMPTS) {
      outbox.markRetry(message, now() + mailBackoffMs(message.attempts), stored(result))
    } else {
      outbox.markFailed(message, stored(result))
      log.warn({ outboxId: message.id, reason: result.kind }, 'invitation failed')
    }
  }

  async function runDue(limit = 20): Promise<number> {
    for (const message of transact(() => outbox.recoverHandedOff(encodeMailReason({ code: 'handed_off' })).map((m) => (invited(m), m)))) {
      log.warn({ outboxId: message.id, followUpId: message.followUpId, kind: message.kind }, 'invitation was handed to the mail server before a stop: counted as sent, not sent again')
    }
    const due = outbox.claimDue(limit, LOCK_MS)
    for (const message of due) {
      try {
        await deliver(message)
      } catch (error) {
        log.error({ err: error, outboxId: message.id }, 'sending an invitation failed unexpectedly')
        outbox.markRetry(message, now() + mailBackoffMs(message.attempts), encodeMailReason({ code: 'internal_error' }))
      }
    }
    return due.length
  }

  const loop = createWorkerLoop({ name: 'mail worker', runDue: () => runDue(), log, now })

  return {
    runDue,
    /** Sends a test message now (Preferences → Email): the server's answer, or the exact error. */
    sendTest(settings: EffectiveMailSettings, to: string, subject: string, text: string): Promise<SendResult> {
      return send(settings, { from: { name: settings.fromName, address: settings.fromAddress }, to, subject, text })
    },
    /** The background worker (see workers/loop.ts); healthy() is what /readyz asks. */
    start: loop.start,
    healthy: loop.healthy,
    /** Stops taking messages and lets the one being sent finish. */
    stop: loop.stop,
  }
}

export type Mailer = ReturnType<typeof createMailer>
