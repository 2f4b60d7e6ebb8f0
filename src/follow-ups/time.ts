/** Wall-clock time in a zone ⇄ UTC, with Intl only (no time zone library needed for this). */

const formatters = new Map<string, Intl.DateTimeFormat>()

function partsIn(date: Date, timeZone: string): Record<string, number> {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  const out: Record<string, number> = {}
  for (const part of f.formatToParts(date)) if (part.type !== 'literal') out[part.type] = Number(part.value)
  return out
}

/** The zone's offset from UTC at that instant, in milliseconds. */
function offsetAt(date: Date, timeZone: string): number {
  const p = partsIn(date, timeZone)
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!)
  return asUtc - Math.floor(date.getTime() / 1000) * 1000
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/

/**
 * "2026-12-01T09:30" in Europe/Amsterdam → the UTC instant. Invalid or non-existent local times (a date
 * that does not exist, or a wall time skipped by a DST change) give null, so the form can say so; a wall time
 * that occurs twice (clocks going back) is its first occurrence.
 */
export function zonedToUtc(local: string, timeZone: string): Date | null {
  const m = LOCAL.exec(local)
  if (!m) return null
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number]
  if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null
  const guess = Date.UTC(year, month - 1, day, hour, minute)
  if (new Date(guess).getUTCDate() !== day) return null
  // The zone's offsets a day before and a day after: equal on most days, the two sides of a DST change otherwise.
  // Each gives an instant; those that show this wall time are its occurrences. None: the clocks skipped it. Two:
  // the clocks went back and it happened twice; RFC 5545 §3.3.5 says it means the first.
  const candidates = [...new Set([guess - offsetAt(new Date(guess - 86_400_000), timeZone), guess - offsetAt(new Date(guess + 86_400_000), timeZone)])].sort((a, b) => a - b)
  const first = candidates.find((utc) => utcToZonedInput(new Date(utc), timeZone) === local)
  return first === undefined ? null : new Date(first)
}

/** The UTC instant as the value of an <input type="datetime-local"> in that zone. */
export function utcToZonedInput(date: Date, timeZone: string): string {
  const p = partsIn(date, timeZone)
  const pad = (n: number | undefined, w = 2) => String(n ?? 0).padStart(w, '0')
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`
}

/** "Tue 1 Dec 2026, 09:30" in the reader's language and zone. */
export function formatDateTime(date: Date | string, timeZone: string, language: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(date))
}

export function formatTime(date: Date | string, timeZone: string, language: string): string {
  return new Intl.DateTimeFormat(language, { timeStyle: 'short', timeZone }).format(new Date(date))
}
