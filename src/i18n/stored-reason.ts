/**
 * Reasons (why a provider call or a mail failed) are stored as JSON in TEXT columns that older rows filled with
 * plain English sentences. This reads one back, whatever it is, for src/providers/reason.ts and
 * src/mail/reason.ts: a reason the given `clean` accepts, plain text (shown as it is), or JSON this version does
 * not know (cut off, damaged, a newer code), which must never be shown raw.
 */
import { translator, type Translate } from './index.js'

export type StoredReason<R> =
  | { kind: 'reason'; reason: R }
  | { kind: 'text'; text: string }
  | { kind: 'unknown'; value?: Record<string, unknown> }

export function readStoredReason<R>(stored: unknown, clean: (value: unknown) => R | null): StoredReason<R> {
  if (stored && typeof stored === 'object') {
    const reason = clean(stored)
    return reason ? { kind: 'reason', reason } : { kind: 'unknown' }
  }
  if (typeof stored !== 'string') return { kind: 'text', text: '' }
  const trimmed = stored.trim()
  // Older rows are plain English sentences; only JSON starts like this.
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return { kind: 'text', text: stored }
  let value: unknown
  try {
    value = JSON.parse(trimmed)
  } catch {
    return { kind: 'unknown' }
  }
  const reason = clean(value)
  if (reason) return { kind: 'reason', reason }
  return value && typeof value === 'object' && !Array.isArray(value) ? { kind: 'unknown', value: value as Record<string, unknown> } : { kind: 'unknown' }
}

/** Shows a stored reason through `render`; if anything throws, the general sentence; if that throws too, nothing. */
export function storedReasonText<R>(stored: unknown, clean: (value: unknown) => R | null, render: (reason: R) => string, unknown: (value?: Record<string, unknown>) => string): string {
  try {
    const read = readStoredReason(stored, clean)
    if (read.kind === 'text') return read.text
    if (read.kind === 'reason') return render(read.reason)
    return unknown(read.value)
  } catch {
    try {
      return unknown()
    } catch {
      return ''
    }
  }
}

/** What a kind of stored reason (provider failures, mail failures) can do, from the one definition below. */
export interface StoredReasonKind<R> {
  /** The stored form: JSON text that always fits `maxStored` whole, so a column's slice never cuts it. */
  encode(reason: R): string
  /** A stored reason read back; null for plain text and for what this version does not know. */
  parse(stored: unknown): R | null
  /** A stored reason (or a reason) in the reader's words; never throws, never shows raw JSON. */
  text(t: Translate, stored: unknown, language?: string): string
  /** The English rendering: for logs and the errors' messages. */
  english(reason: R): string
}

/**
 * Defines a kind of stored reason once: what a reason of this kind may hold (`clean`: the fields, of the right
 * types and sizes, or null), how it is said (`render`, through the catalog), what is said for JSON this version
 * does not know (`unknown`), and which text fields give way, in order and a little at a time, when the JSON
 * would not fit the column (`shorten`).
 */
export function defineStoredReason<R extends { code: string }>(spec: {
  clean(value: unknown): R | null
  /** Stored in place of a reason that does not clean (a bug, never user input). */
  fallback: R
  render(t: Translate, reason: R, language: string): string
  unknown(t: Translate, value?: Record<string, unknown>): string
  shorten?: readonly (keyof R & string)[]
  maxStored?: number
}): StoredReasonKind<R> {
  const maxStored = spec.maxStored ?? MAX_STORED_REASON
  const english = translator('en')
  const text = (t: Translate, stored: unknown, language = 'en') =>
    storedReasonText(stored, spec.clean, (reason) => spec.render(t, reason, language), (value) => spec.unknown(t, value))
  return {
    encode(reason) {
      const cleaned: Record<string, unknown> = { ...(spec.clean(reason) ?? spec.fallback) }
      let encoded = JSON.stringify(cleaned)
      for (const field of spec.shorten ?? []) {
        while (encoded.length > maxStored && typeof cleaned[field] === 'string') {
          const value = cleaned[field] as string
          // One character takes at most six in JSON (\u001f): never shortened by more than needed.
          const shorter = value.slice(0, value.length - Math.max(1, Math.floor((encoded.length - maxStored) / 6)))
          if (shorter) cleaned[field] = shorter
          else delete cleaned[field]
          encoded = JSON.stringify(cleaned)
        }
      }
      return encoded
    },
    parse(stored) {
      const read = readStoredReason(stored, spec.clean)
      return read.kind === 'reason' ? read.reason : null
    },
    text,
    english: (reason) => text(english, reason, 'en'),
  }
}

/** What the TEXT columns that keep reasons hold (meetings.last_error, outbox.last_error): a reason fits whole. */
export const MAX_STORED_REASON = 500
