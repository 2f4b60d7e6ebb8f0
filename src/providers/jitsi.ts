/**
 * Jitsi Meet: no sign-in, no API. A meeting is a room name on a Jitsi server; the room exists as soon as the
 * first person opens its link, so anyone who can guess the name can join. The name therefore always carries
 * {random}: 16 characters from a 32-letter alphabet, 80 bits from crypto.randomInt.
 * Room names are lower case (Jitsi treats them case-insensitively) and URL-safe: ASCII letters, digits, hyphens.
 */
import type { Language } from '../i18n/languages.js'
import type { MeetingInput, ProviderAdapter, ProviderSettings, Text } from './contract.js'
import { randomToken, settingString, text, type Form } from './settings-helpers.js'

export const JITSI_DEFAULT_PATTERN = '{title}-{random}'
const RANDOM_LENGTH = 16 // × 5 bits = 80 bits
const TITLE_MAX = 40
const PATTERN_MAX = 60
const PLACEHOLDER = /\{([^{}]*)\}/g

const MSG = {
  url: { en: 'Enter the https address of a Jitsi server, e.g. https://meet.jit.si.', nl: 'Vul het https-adres van een Jitsi-server in, bijv. https://meet.jit.si.' },
  urlParts: {
    en: 'Leave out the part after ? or # (and any user name or password).',
    nl: 'Laat het deel na ? of # weg (en een eventuele gebruikersnaam of wachtwoord).',
  },
  patternRandom: {
    en: 'Include {random}: without it people could guess the room name.',
    nl: 'Neem {random} op: zonder kunnen anderen de naam van de ruimte raden.',
  },
  patternChars: {
    en: 'Use only letters, digits, hyphens and the placeholders {title} and {random}.',
    nl: 'Gebruik alleen letters, cijfers, koppeltekens en de plaatshouders {title} en {random}.',
  },
  patternLength: { en: `Use at most ${PATTERN_MAX} characters.`, nl: `Gebruik hoogstens ${PATTERN_MAX} tekens.` },
} satisfies Record<string, Text>

/** The server address without a trailing slash, or why it is refused (not a plain https URL). */
export function normalizeServerUrl(raw: string): { url: string } | { error: keyof typeof MSG } {
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

function patternError(pattern: string): keyof typeof MSG | null {
  if (pattern.length > PATTERN_MAX) return 'patternLength'
  const names = [...pattern.matchAll(PLACEHOLDER)].map((m) => m[1])
  if (names.some((n) => n !== 'title' && n !== 'random')) return 'patternChars'
  if (!/^[A-Za-z0-9-]*$/.test(pattern.replace(PLACEHOLDER, ''))) return 'patternChars'
  if (!names.includes('random')) return 'patternRandom'
  return null
}

/** ASCII letters, digits and single hyphens: "Café Überweg / Q3" → "cafe-uberweg-q3". */
export function slugify(title: string, max = TITLE_MAX): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '')
}

export function roomName(pattern: string, title: string): string {
  const safePattern = patternError(pattern) ? JITSI_DEFAULT_PATTERN : pattern
  const name = safePattern
    .replace(/\{title\}/g, () => slugify(title) || 'meeting')
    .replace(/\{random\}/g, () => randomToken(RANDOM_LENGTH))
  return name
    .toLowerCase()
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
}

export function createJitsiProvider(defaultServerUrl: string): ProviderAdapter {
  const serverOf = (settings: ProviderSettings) => {
    const normalized = normalizeServerUrl(settingString(settings, 'serverUrl', defaultServerUrl))
    return 'url' in normalized ? normalized.url : defaultServerUrl.replace(/\/+$/, '')
  }
  const create = async (input: MeetingInput, settings: ProviderSettings) => {
    const room = roomName(settingString(settings, 'roomPattern', JITSI_DEFAULT_PATTERN), input.title)
    return { externalId: room, joinUrl: `${serverOf(settings)}/${room}` }
  }

  return {
    id: 'jitsi',
    name: 'Jitsi',
    oauth: null,
    // Never called: Jitsi has no sign-in. Answers a fixed identity so the contract holds.
    async identity() {
      return { accountId: 'jitsi', name: 'Jitsi' }
    },
    settings: {
      fields: [
        {
          name: 'serverUrl',
          type: 'url',
          required: true,
          maxLength: 200,
          label: { en: 'Jitsi server', nl: 'Jitsi-server' },
          hint: { en: 'For example https://meet.jit.si or your own server.', nl: 'Bijvoorbeeld https://meet.jit.si of uw eigen server.' },
        },
        {
          name: 'roomPattern',
          type: 'text',
          required: true,
          maxLength: PATTERN_MAX,
          label: { en: 'Room name', nl: 'Naam van de ruimte' },
          hint: {
            en: '{title} is the follow-up’s title, {random} a random part that keeps the room private (required).',
            nl: '{title} is de titel van de vervolgactie, {random} een willekeurig deel dat de ruimte privé houdt (verplicht).',
          },
        },
      ],
      defaults: () => ({ serverUrl: defaultServerUrl.replace(/\/+$/, ''), roomPattern: JITSI_DEFAULT_PATTERN }),
      parse(form: Form, language: Language) {
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
      },
    },
    meetings: {
      create: (_api, input, settings) => create(input, settings),
      // The link is the room: changing the time or title changes nothing at Jitsi.
      update: async (_api, ref) => ref,
      delete: async () => undefined,
    },
  }
}

export const jitsiProvider = createJitsiProvider('https://meet.jit.si')
