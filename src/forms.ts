import type { Translate } from './i18n/index.js'

export type FieldErrors = Record<string, string>

/** C0 and C1 control characters, DEL, and the Unicode line/paragraph separators: refused in any one-line value. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const CONTROL = CONTROL_CHARACTERS
const CONTROL_EXCEPT_NEWLINES = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/
// A pragmatic address check (what browsers' type=email accepts), plus a dot in the domain.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value)
}

interface TextRule {
  required?: boolean
  max?: number
  /** Allow line breaks (descriptions, lists). Other control characters are always refused. */
  multiline?: boolean
  trim?: boolean
}

/**
 * Reads an urlencoded form field by field, collecting one message per field in the user's language, so a
 * page can re-render with the input kept and each error next to its field.
 */
export class FormReader {
  readonly errors: FieldErrors = {}
  readonly values: Record<string, string> = {}
  private readonly body: Record<string, unknown>

  constructor(
    body: unknown,
    private readonly t: Translate,
  ) {
    this.body = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  }

  get ok(): boolean {
    return Object.keys(this.errors).length === 0
  }

  fail(name: string, message: string): void {
    this.errors[name] ??= message
  }

  private raw(name: string): string | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'string') {
      this.fail(name, this.t('error.repeated'))
      return undefined
    }
    return value
  }

  text(name: string, rule: TextRule = {}): string {
    const raw = this.raw(name)
    let value = raw ?? ''
    if (rule.trim !== false) value = value.trim()
    if (rule.multiline) value = value.replace(/\r\n?/g, '\n')
    this.values[name] = value
    if (raw === undefined && name in this.errors) return ''
    if ((rule.multiline ? CONTROL_EXCEPT_NEWLINES : CONTROL).test(value)) this.fail(name, this.t('error.controlChars'))
    else if (rule.required && value === '') this.fail(name, this.t('error.required'))
    else if (value.length > (rule.max ?? 200)) this.fail(name, this.t('error.tooLong', { max: rule.max ?? 200 }))
    return value
  }

  email(name: string, required = true): string {
    const value = this.text(name, { required, max: 254 })
    if (value && !(name in this.errors) && !isEmail(value)) this.fail(name, this.t('error.email'))
    return value.toLowerCase()
  }

  /** A password is taken as typed: no trimming, no normalising beyond what hashing does. */
  password(name: string, rule: { min?: number; max?: number; required?: boolean } = {}): string {
    const value = this.raw(name) ?? ''
    if (name in this.errors) return ''
    if (CONTROL.test(value)) this.fail(name, this.t('error.controlChars'))
    else if (rule.required !== false && value === '') this.fail(name, this.t('error.required'))
    else if (rule.min && value.length < rule.min) this.fail(name, this.t('error.passwordShort', { min: rule.min }))
    else if (value.length > (rule.max ?? 256)) this.fail(name, this.t('error.passwordLong', { max: rule.max ?? 256 }))
    return value
  }

  choice<T extends string>(name: string, options: readonly T[], fallback?: T): T {
    const raw = this.raw(name)
    const value = (raw ?? fallback ?? '').trim()
    this.values[name] = value
    if (name in this.errors) return (fallback ?? options[0]) as T
    if (!(options as readonly string[]).includes(value)) {
      this.fail(name, this.t('error.choice'))
      return (fallback ?? options[0]) as T
    }
    return value as T
  }

  /** A field that may be repeated (several checkboxes with one name): every value, each checked. */
  list(name: string, rule: { max?: number; maxItems?: number } = {}): string[] {
    const value = this.body[name]
    const raw = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]
    if (raw.length > (rule.maxItems ?? 100) || raw.some((v) => typeof v !== 'string' || v.length > (rule.max ?? 254) || CONTROL.test(v))) {
      this.fail(name, this.t('error.choice'))
      return []
    }
    return raw as string[]
  }

  /** Checkboxes post value="true" when ticked and nothing when not. */
  checkbox(name: string): boolean {
    const raw = this.raw(name)
    const on = raw === 'true' || raw === 'on'
    this.values[name] = on ? 'true' : ''
    return on
  }
}

let zones: Set<string> | undefined
export function timeZones(): string[] {
  return [...timeZoneSet()]
}
function timeZoneSet(): Set<string> {
  zones ??= new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])
  return zones
}
export function isTimeZone(value: string): boolean {
  return timeZoneSet().has(value)
}
