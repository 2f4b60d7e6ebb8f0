/** Zoom's screen text, in every UI language (messages that quote the passcode limits sit with them in settings.ts). */
import type { Text } from '../contract.js'

export const ZOOM_TEXT = {
  passcode: { en: 'Meeting passcode', nl: 'Toegangscode voor vergaderingen' },
  passcodeChars: {
    en: 'Use only letters, digits and @ - _ * (no spaces).',
    nl: 'Gebruik alleen letters, cijfers en @ - _ * (geen spaties).',
  },
  waitingRoom: { en: 'Waiting room', nl: 'Wachtkamer' },
  joinBeforeHost: { en: 'Participants may join before the host', nl: 'Deelnemers mogen binnenkomen vóór de organisator' },
  autoRecording: { en: 'Record automatically', nl: 'Automatisch opnemen' },
  recording: {
    none: { en: 'No', nl: 'Nee' },
    local: { en: 'On the host’s computer', nl: 'Op de computer van de organisator' },
    cloud: { en: 'In the Zoom cloud', nl: 'In de Zoom-cloud' },
  },
  missingScope: {
    en: 'The Zoom app misses a scope this needs. Add meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings and user:read:user to the app in the Zoom App Marketplace, then connect again.',
    nl: 'De Zoom-app mist een benodigde scope. Voeg meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings en user:read:user toe aan de app in de Zoom App Marketplace en maak daarna opnieuw verbinding.',
  },
  registrationHelp: {
    en: 'In the Zoom App Marketplace choose Develop → Build App → General App (user-managed). Copy the Client ID and Client Secret, add the redirect URI shown here, and on the Scopes page add meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings and user:read:user (Zoom takes the scopes from the app, not from the sign-in). Until the app is published, only users in your own Zoom account can connect; anyone else gets an error from Zoom.',
    nl: 'Kies in de Zoom App Marketplace Develop → Build App → General App (user-managed). Kopieer de Client ID en het Client Secret, voeg de redirect-URI van deze pagina toe en voeg op de pagina Scopes meeting:write:meeting, meeting:update:meeting, meeting:delete:meeting, meeting:read:meeting, meeting:read:list_meetings en user:read:user toe (Zoom neemt de scopes van de app, niet van de aanmelding). Zolang de app niet gepubliceerd is, kunnen alleen gebruikers in uw eigen Zoom-account verbinden; anderen krijgen een foutmelding van Zoom.',
  },
} satisfies Record<string, Text | Record<string, Text>>
