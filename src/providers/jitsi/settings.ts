/** Jitsi's extra settings: the server the rooms are on, and how room names are made. */
import type { Language } from '../../i18n/languages.js'
import type { ProviderSettings, SettingsDefinition, Text } from '../contract.js'
import { settingString, text, type Form } from '../settings-helpers.js'
import { JITSI_TEXT } from './text.js'

export const JITSI_DEFAULT_PATTERN = '{title}-{random}'
const PATTERN_MAX = 60
const PLACEHOLDER = /\{([^{}]*)\}/g

const MSG = {
  ...JITSI_TEXT,
  patternLength: { en: `Use at most ${PATTERN_MAX} characters.`, nl: `Gebruik hoogstens ${PATTERN_MAX} tekens.` },
} satisfies Record<string, Text>

export type JitsiSettings = {
  serverUrl: string
  roomPattern: string
}

/** The server address without a trailing slash, or why it is refused (not a plain https URL). */
export function normalizeServerUrl(raw: string): { url: string } | { error: 'url' | 'urlParts' } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { error: 'url' }
  }
  if (url.protocol !== 'https:' || !url.hostname) return { error: 'url' }
  if (url.search || url.hash || raw.includes('?') || raw.includes('#') || url.username || url.password) return { error: 'urlParts' }
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` }
}

/** Why a room name pattern is refused, or null. */
export function patternError(pattern: string): 'patternLength' | 'patternChars' | 'patternRandom' | null {
  if (pattern.length > PATTERN_MAX) return 'patternLength'
  const names = [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1])
  if (names.some((n) => n !== 'title' && n !== 'random')) return 'patternChars'
  if (!/^[A-Za-z0-9-]*$/.test(pattern.replace(PLACEHOLDER, ''))) return 'patternChars'
  if (!names.includes('random')) return 'patternRandom'
  return null
}

export function parseJitsiSettings(form: Form, language: Language): { settings: JitsiSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  let serverUrl = text(form, 'serverUrl', language, errors, true)
  if (!errors.serverUrl) {
    const normalized = normalizeServerUrl(serverUrl)
    if ('url' in normalized) serverUrl = normalized.url
    else errors.serverUrl = MSG[normalized.error][language]
  }
  const roomPattern = text(form, 'roomPattern', language, errors, true)
  if (!errors.roomPattern) {
    const problem = patternError(roomPattern)
    if (problem) errors.roomPattern = MSG[problem][language]
  }
  return { settings: { serverUrl, roomPattern }, errors }
}

/** Stored settings as Jitsi's: a missing or refused server is the operator's default, a bad pattern the default one. */
export function readJitsiSettings(stored: ProviderSettings, defaultServerUrl: string): JitsiSettings {
  const normalized = normalizeServerUrl(settingString(stored, 'serverUrl', defaultServerUrl))
  const pattern = settingString(stored, 'roomPattern', JITSI_DEFAULT_PATTERN)
  return {
    serverUrl: 'url' in normalized ? normalized.url : defaultServerUrl.replace(/\/+$/, ''),
    roomPattern: patternError(pattern) ? JITSI_DEFAULT_PATTERN : pattern,
  }
}

/** `defaultServerUrl`: JITSI_URL, proposed to a fresh connection. */
export function jitsiSettings(defaultServerUrl: string): SettingsDefinition {
  return {
    fields: [
      { name: 'serverUrl', type: 'url', required: true, maxLength: 200, label: JITSI_TEXT.serverUrl, hint: JITSI_TEXT.serverUrlHint },
      { name: 'roomPattern', type: 'text', required: true, maxLength: PATTERN_MAX, label: JITSI_TEXT.roomPattern, hint: JITSI_TEXT.roomPatternHint },
    ],
    defaults: (): JitsiSettings => ({ serverUrl: defaultServerUrl.replace(/\/+$/, ''), roomPattern: JITSI_DEFAULT_PATTERN }),
    parse: parseJitsiSettings,
  }
}
