/**
 * Jitsi Meet: no sign-in, no API. A meeting is a room name on a Jitsi server; the room exists as soon as the
 * first person opens its link, so anyone who can guess the name can join. The name therefore always carries
 * {random}: 16 characters from a 32-letter alphabet, 80 bits from crypto.randomInt.
 * Room names are lower case (Jitsi treats them case-insensitively) and URL-safe: ASCII letters, digits, hyphens.
 */
import type { MeetingInput, ProviderAdapter, ProviderSettings } from '../contract.js'
import { randomToken } from '../settings-helpers.js'
import { JITSI_DEFAULT_PATTERN, jitsiSettings, patternError, readJitsiSettings } from './settings.js'

export { JITSI_DEFAULT_PATTERN }

const RANDOM_LENGTH = 16 // × 5 bits = 80 bits
const TITLE_MAX = 40

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

export function createJitsiProvider(defaultServerUrl: string): ProviderAdapter & { id: 'jitsi' } {
  const create = async (input: MeetingInput, stored: ProviderSettings) => {
    const settings = readJitsiSettings(stored, defaultServerUrl)
    const room = roomName(settings.roomPattern, input.title)
    return { externalId: room, joinUrl: `${settings.serverUrl}/${room}` }
  }

  return {
    id: 'jitsi',
    name: 'Jitsi',
    oauth: null,
    // Never called: Jitsi has no sign-in. Answers a fixed identity so the contract holds.
    async identity() {
      return { accountId: 'jitsi', name: 'Jitsi' }
    },
    settings: jitsiSettings(defaultServerUrl),
    meetings: {
      create: (_api, input, settings) => create(input, settings),
      // The link is the room: changing the time or title changes nothing at Jitsi.
      update: async (_api, ref) => ref,
      delete: async () => undefined,
    },
  }
}

export const jitsiProvider = createJitsiProvider('https://meet.jit.si')
