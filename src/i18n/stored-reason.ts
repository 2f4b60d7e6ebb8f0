/**
 * Reasons (why a provider call or a mail failed) are stored as JSON in TEXT columns that older rows filled with
 * plain English sentences. This reads one back, whatever it is, for src/providers/reason.ts and
 * src/mail/reason.ts: a reason the given `clean` accepts, plain text (shown as it is), or JSON this version does
 * not know (cut off, damaged, a newer code), which must never be shown raw.
 */
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
