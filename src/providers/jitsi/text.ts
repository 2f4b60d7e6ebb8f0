/** Jitsi's screen text, in every UI language (the message quoting the pattern's limit sits with it in settings.ts). */
import type { Text } from '../contract.js'

export const JITSI_TEXT = {
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
  serverUrl: { en: 'Jitsi server', nl: 'Jitsi-server' },
  serverUrlHint: { en: 'For example https://meet.jit.si or your own server.', nl: 'Bijvoorbeeld https://meet.jit.si of uw eigen server.' },
  roomPattern: { en: 'Room name', nl: 'Naam van de ruimte' },
  roomPatternHint: {
    en: '{title} is the follow-up’s title, {random} a random part that keeps the room private (required).',
    nl: '{title} is de titel van de vervolgactie, {random} een willekeurig deel dat de ruimte privé houdt (verplicht).',
  },
} satisfies Record<string, Text>
