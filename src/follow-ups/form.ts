import { FormReader, isEmail, isTimeZone } from '../forms.js'
import type { Translate } from '../i18n/index.js'
import type { FollowUp, FollowUpInput } from '../db/repositories/follow-ups.js'
import type { FollowUpType } from '../db/repositories/follow-up-types.js'
import { utcToZonedInput, zonedToUtc } from './time.js'

export const MAX_ATTENDEES = 50

/** The form's values for an existing follow-up (times shown in the follow-up's own zone). */
export function formValues(f: FollowUp): Record<string, string> {
  return {
    title: f.title,
    typeId: f.typeId === null ? '' : String(f.typeId),
    start: utcToZonedInput(new Date(f.startsAt), f.timeZone),
    end: utcToZonedInput(new Date(f.endsAt), f.timeZone),
    duration: '',
    timeZone: f.timeZone,
    location: f.location,
    description: f.description,
    attendees: f.attendees.join('\n'),
    video: f.video ? 'true' : '',
  }
}

/** Reads and validates the follow-up form; every problem is reported next to its field, input kept. */
export function readFollowUpForm(body: unknown, t: Translate, types: FollowUpType[], videoAvailable: boolean) {
  const f = new FormReader(body, t)
  const title = f.text('title', { required: true, max: 200 })
  const typeRaw = f.text('typeId', { max: 12 })
  const typeId = typeRaw === '' ? null : types.find((type) => String(type.id) === typeRaw)?.id
  if (typeId === undefined) f.fail('typeId', t('error.choice'))
  const timeZone = f.text('timeZone', { required: true, max: 64 })
  if (!f.errors.timeZone && !isTimeZone(timeZone)) f.fail('timeZone', t('error.timeZone'))
  const location = f.text('location', { max: 500 })
  const description = f.text('description', { max: 5000, multiline: true })
  const startRaw = f.text('start', { required: true, max: 20 })
  const endRaw = f.text('end', { max: 20 })
  const durationRaw = f.text('duration', { max: 5 })
  const attendeesRaw = f.text('attendees', { max: 20_000, multiline: true })
  const video = videoAvailable && f.checkbox('video')
  const sendInvitations = f.checkbox('sendInvitations')
  const action = f.choice('action', ['save', 'preview', 'edit'] as const, 'save')
  // From the preview: the attendees who get the invitation (the others are unticked there).
  const chosen = body !== null && typeof body === 'object' && 'inviteChosen' in body
  const invite = chosen ? f.list('invite').map((e) => e.toLowerCase()) : null

  const zone = f.errors.timeZone ? 'UTC' : timeZone
  const parseTime = (name: string, raw: string): Date | null => {
    if (!raw || f.errors[name]) return null
    const normal = raw.replace(' ', 'T')
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(normal)) {
      f.fail(name, t('followUps.error.datetime'))
      return null
    }
    const date = zonedToUtc(normal, zone)
    if (!date) f.fail(name, /T(\d{2}):(\d{2})$/.test(normal) && zonedToUtc(normal, 'UTC') ? t('followUps.error.noSuchTime') : t('followUps.error.datetime'))
    return date
  }
  const start = parseTime('start', startRaw)
  let end = parseTime('end', endRaw)
  if (!endRaw && !f.errors.end) {
    if (!durationRaw) f.fail('end', t('followUps.error.endOrDuration'))
    else if (!/^\d{1,4}$/.test(durationRaw) || Number(durationRaw) < 1 || Number(durationRaw) > 1440) f.fail('duration', t('followUps.error.duration'))
    else if (start) end = new Date(start.getTime() + Number(durationRaw) * 60_000)
  }
  if (start && end && end <= start) f.fail('end', t('followUps.error.endBeforeStart'))

  const attendees = [...new Set(attendeesRaw.split(/[\n,;]+/).map((a) => a.trim().toLowerCase()).filter(Boolean))]
  const bad = attendees.find((a) => !isEmail(a))
  if (bad) f.fail('attendees', t('followUps.error.attendee', { email: bad.slice(0, 100) }))
  else if (attendees.length > MAX_ATTENDEES) f.fail('attendees', t('followUps.error.tooManyAttendees', { max: MAX_ATTENDEES }))

  const uninvited = invite ? attendees.filter((a) => !invite.includes(a)) : undefined
  const input: FollowUpInput | null =
    f.ok && start && end
      ? { typeId: typeId ?? null, title, startsAt: start.toISOString(), endsAt: end.toISOString(), timeZone, location, description, video, attendees, ...(uninvited && { uninvited }) }
      : null
  return { input, values: f.values, errors: f.errors, sendInvitations, action, invite }
}

export type FollowUpForm = ReturnType<typeof readFollowUpForm>
