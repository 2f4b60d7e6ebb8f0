/**
 * Pieces the provider adapters share: reading posted setting forms, random passcodes, small mappers.
 * Messages are Text ({en, nl}) so provider modules stay self-contained (see contract.ts).
 */
import { randomInt } from 'node:crypto'
import { CONTROL_CHARACTERS } from '../forms.js'
import type { Language } from '../i18n/languages.js'
import { ProviderError, type ApiClient, type ProviderSettings, type Text } from './contract.js'

export type Form = Record<string, string | undefined>


export const MESSAGES = {
  required: { en: 'Fill in this field.', nl: 'Vul dit veld in.' },
  controlChars: { en: 'Remove the invisible control characters.', nl: 'Verwijder de onzichtbare stuurtekens.' },
  invalidChoice: { en: 'Choose one of the options.', nl: 'Kies een van de opties.' },
} satisfies Record<string, Text>

/** A checked HTML checkbox posts "on" (or the value="true" we render); an unchecked one posts nothing. */
export function checkbox(form: Form, name: string): boolean {
  const value = form[name]?.trim().toLowerCase()
  return value === 'on' || value === 'true' || value === '1' || value === 'yes'
}

/** A select value, checked against the allowed values; absent means the default. */
export function select<T extends string>(
  form: Form,
  name: string,
  allowed: readonly T[],
  fallback: T,
  language: Language,
  errors: Record<string, string>,
): T {
  const raw = form[name]?.trim()
  if (raw === undefined || raw === '') return fallback
  if ((allowed as readonly string[]).includes(raw)) return raw as T
  errors[name] = MESSAGES.invalidChoice[language]
  return fallback
}

/**
 * A text value, trimmed. Records "required" or "control characters" in errors and returns the value as typed,
 * so the form can show it again.
 */
export function text(form: Form, name: string, language: Language, errors: Record<string, string>, required = false): string {
  const value = (form[name] ?? '').trim()
  if (CONTROL_CHARACTERS.test(value)) errors[name] = MESSAGES.controlChars[language]
  else if (required && value === '') errors[name] = MESSAGES.required[language]
  return value
}

export const LOWER = 'abcdefghijkmnopqrstuvwxyz' // no l: too close to 1 and I
export const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ' // no I, O
export const DIGITS = '23456789' // no 0, 1
/** A passcode typed on a phone's keypad has nothing to confuse. */
const KEYPAD = '0123456789'

function pick(alphabet: string): string {
  return alphabet.charAt(randomInt(alphabet.length))
}

/**
 * The one generator of meeting passcodes and passwords: `length` characters from crypto.randomInt, with at least
 * one of every class (lower, upper, digit, and `special` when given; digits only with `digitsOnly`). `special`
 * characters are never first or last (some sites require passwords to begin and end with a letter or digit).
 * Three identical characters in a row are redrawn (Zoom's "consecutive characters" rule).
 */
export function randomPasscode(length: number, options: { special?: string; digitsOnly?: boolean } = {}): string {
  const special = options.special ?? ''
  const classes = options.digitsOnly ? [KEYPAD] : [LOWER, UPPER, DIGITS, ...(special ? [special] : [])]
  const all = options.digitsOnly ? KEYPAD : LOWER + UPPER + DIGITS
  for (;;) {
    const chars = Array.from({ length }, () => pick(all))
    // One of each class at distinct random inner positions (the special one never at either end).
    const positions = new Set<number>()
    while (positions.size < classes.length) positions.add(1 + randomInt(length - 2))
    let i = 0
    for (const position of positions) chars[position] = pick(classes[i++] ?? all)
    const secret = chars.join('')
    if (!/(.)\1\1/.test(secret)) return secret
  }
}

/** Lower-case random string of `length` characters from base32's alphabet (5 bits each). */
export function randomToken(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  return Array.from({ length }, () => pick(alphabet)).join('')
}

/** Cuts a string to at most `max` UTF-16 units without splitting a surrogate pair. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value
  let cut = value.slice(0, max)
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1)
  return cut
}

/** UTC date-time without milliseconds: 2030-05-01T10:00:00Z (Zoom's documented start_time form). */
export function utcSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined
}

export function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

/** A setting as a string, or the fallback when it is missing or of another type. */
export function settingString(settings: ProviderSettings, name: string, fallback: string): string {
  const value = settings[name]
  return typeof value === 'string' && value !== '' ? value : fallback
}

export function settingBoolean(settings: ProviderSettings, name: string, fallback: boolean): boolean {
  const value = settings[name]
  return typeof value === 'boolean' ? value : fallback
}

/** The answer's body as an object; a provider that answers 2xx without one is treated as a transient fault. */
export function bodyOf(res: { status: number; body: unknown }, what: string): Record<string, unknown> {
  if (!res.body || typeof res.body !== 'object' || Array.isArray(res.body)) {
    throw new ProviderError('retry', `the provider answered ${res.status} without the ${what}`, { status: res.status }, { code: 'incomplete_answer' })
  }
  return res.body as Record<string, unknown>
}

/** Runs one API call and lets `refine` turn a ProviderError into a more precise one. */
export async function call<T>(run: () => Promise<T>, refine: (error: ProviderError) => ProviderError): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof ProviderError) throw refine(error)
    throw error
  }
}

/** Delete that counts a meeting that is already gone as deleted. */
export async function deleteIgnoringGone(api: ApiClient, path: string, query?: Record<string, string>, refine?: (error: ProviderError) => ProviderError): Promise<void> {
  try {
    await api.request('DELETE', path, undefined, query)
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'not_found') return
    if (error instanceof ProviderError && refine) throw refine(error)
    throw error
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The marker an adapter puts in a meeting's free text (Zoom and Webex agenda) so that `find` can recognise the
 * meeting a create with this request id made, when that create's answer was lost. Square brackets keep one
 * request id from matching another that merely starts the same way.
 */
export function requestMarker(requestId: string): string {
  return `[vm:${requestId}]`
}

/** Any request marker, whoever's (a meeting carrying one belongs to that request, not to ours). */
export const ANY_REQUEST_MARKER = /\[vm:[^\]\s]+\]/

/**
 * `text` with the request marker as its last line, the text cut so that the whole stays within `max` UTF-16
 * units (the marker is never cut).
 */
export function withRequestMarker(text: string, requestId: string, max: number): string {
  const marker = requestMarker(requestId)
  const room = Math.max(0, max - marker.length - 1)
  const body = truncate(text, room).trimEnd()
  return body ? `${body}\n${marker}` : marker
}

export function hasRequestMarker(text: unknown, requestId: string): boolean {
  return typeof text === 'string' && text.includes(requestMarker(requestId))
}
