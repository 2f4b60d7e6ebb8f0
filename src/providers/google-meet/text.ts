/** Google Meet's screen text, in every UI language. */
import type { Text } from '../contract.js'

export const GOOGLE_MEET_TEXT = {
  scopeMissing: {
    en: 'Google did not grant access to your calendar events. Connect again and tick the box that lets this app view and edit events on your calendars.',
    nl: 'Google gaf geen toegang tot uw agenda-afspraken. Maak opnieuw verbinding en vink het vakje aan waarmee deze app afspraken in uw agenda\'s mag bekijken en bewerken.',
  },
  conferenceFailed: {
    en: 'Google Calendar could not add a Google Meet video meeting. Check that Google Meet is turned on for your Google account.',
    nl: 'Google Agenda kon geen Google Meet-videovergadering toevoegen. Controleer of Google Meet aan staat voor uw Google-account.',
  },
  registrationHelp: {
    en: 'In the Google Cloud console enable the Google Calendar API, set up the OAuth consent screen (add the scopes openid, email, profile and https://www.googleapis.com/auth/calendar.events.owned), then create an OAuth client ID of type "Web application" with the redirect URI shown here. While the app\'s publishing status is "Testing", only listed test users can connect and Google ends their connection after 7 days: publish the app ("In production"; the calendar scope may need Google\'s verification) for lasting connections.',
    nl: 'Schakel in de Google Cloud-console de Google Calendar API in, stel het OAuth-toestemmingsscherm in (voeg de scopes openid, email, profile en https://www.googleapis.com/auth/calendar.events.owned toe) en maak daarna een OAuth-client-ID van het type "Web application" met de redirect-URI van deze pagina. Zolang de publicatiestatus van de app "Testing" is, kunnen alleen opgegeven testgebruikers verbinden en verbreekt Google hun verbinding na 7 dagen: publiceer de app ("In production"; voor de agenda-scope kan verificatie door Google nodig zijn) voor blijvende verbindingen.',
  },
} satisfies Record<string, Text>
