/** Webex's screen text, in every UI language (messages that quote the password limits sit with them in settings.ts). */
import type { Text } from '../contract.js'

export const WEBEX_TEXT = {
  password: { en: 'Meeting password', nl: 'Wachtwoord voor vergaderingen' },
  passwordClasses: {
    en: 'Use at least one capital letter, one small letter and one digit.',
    nl: 'Gebruik minstens één hoofdletter, één kleine letter en één cijfer.',
  },
  passwordChars: {
    en: 'Leave out spaces and the characters \\ \' " / & < > = [ ].',
    nl: 'Laat spaties en de tekens \\ \' " / & < > = [ ] weg.',
  },
  joinBeforeHost: { en: 'Participants may join before the host', nl: 'Deelnemers mogen binnenkomen vóór de organisator' },
  forbidden: {
    en: 'Webex refused the request: your Webex account may have no Meetings licence, or the integration lacks the meeting:schedules_write scope.',
    nl: 'Webex weigerde het verzoek: uw Webex-account heeft mogelijk geen Meetings-licentie, of de integratie mist de scope meeting:schedules_write.',
  },
  registrationHelp: {
    en: 'Sign in at developer.webex.com, open My Webex Apps → Create a New App → Integration. Enter the redirect URI shown here, select the scopes spark:people_read, meeting:schedules_read and meeting:schedules_write, then copy the Client ID and Client Secret. Whoever connects needs a Webex account that may host meetings.',
    nl: 'Meld u aan op developer.webex.com en open My Webex Apps → Create a New App → Integration. Vul de redirect-URI van deze pagina in, kies de scopes spark:people_read, meeting:schedules_read en meeting:schedules_write en kopieer daarna de Client ID en het Client Secret. Wie verbinding maakt, heeft een Webex-account nodig dat vergaderingen mag organiseren.',
  },
} satisfies Record<string, Text>
