/** Microsoft Teams' screen text, in every UI language. */
import type { Text } from '../contract.js'

export const PERSONAL_ACCOUNT_MESSAGE: Text = {
  en: 'Microsoft Teams needs a work or school account; personal Microsoft accounts are not supported.',
  nl: 'Microsoft Teams vereist een werk- of schoolaccount; persoonlijke Microsoft-accounts worden niet ondersteund.',
}

export const TEAMS_TEXT = {
  note: { en: 'Needs a Microsoft 365 work or school account', nl: 'Vereist een werk- of schoolaccount van Microsoft 365' },
  registrationHelp: {
    en: 'In Microsoft Entra ID open App registrations → New registration. Under "Supported account types" choose accounts in any organizational directory (multitenant): Teams meetings work only for work or school accounts, not personal Microsoft accounts. Add the redirect URI shown here under the Web platform, create a client secret (copy its Value, not its ID), and under API permissions add the delegated Microsoft Graph permissions openid, profile, email, offline_access, User.Read and OnlineMeetings.ReadWrite. If your organization does not let users consent to apps, an administrator must grant admin consent for the app first.',
    nl: 'Open in Microsoft Entra ID App registrations → New registration. Kies bij "Supported account types" accounts in elke organisatiedirectory (multitenant): Teams-vergaderingen werken alleen met werk- of schoolaccounts, niet met persoonlijke Microsoft-accounts. Voeg de redirect-URI van deze pagina toe onder het platform Web, maak een client secret aan (kopieer de Value, niet de ID) en voeg onder API permissions de gedelegeerde Microsoft Graph-machtigingen openid, profile, email, offline_access, User.Read en OnlineMeetings.ReadWrite toe. Als uw organisatie gebruikers geen toestemming laat geven aan apps, moet een beheerder eerst beheerderstoestemming (admin consent) voor de app geven.',
  },
  tenant: { en: 'Tenant', nl: 'Tenant' },
  tenantHint: {
    en: 'organizations (any work or school account), or your tenant ID or domain.',
    nl: 'organizations (elk werk- of schoolaccount), of uw tenant-ID of domein.',
  },
  tenantInvalid: { en: 'Enter organizations, common, a tenant ID or a domain.', nl: 'Voer organizations, common, een tenant-ID of een domein in.' },
  lobbyBypass: { en: 'Who skips the lobby', nl: 'Wie slaat de lobby over' },
  lobby: {
    everyone: { en: 'Everyone', nl: 'Iedereen' },
    organization: { en: 'People in my organization and guests', nl: 'Mensen in mijn organisatie en gasten' },
    organizer: { en: 'Only me (the organizer)', nl: 'Alleen ik (de organisator)' },
  },
  preferDirectLink: { en: 'Prefer direct Microsoft Teams link', nl: 'Directe Microsoft Teams-link gebruiken' },
  preferDirectLinkHint: { en: 'Invitations carry the Teams join link itself.', nl: 'Uitnodigingen bevatten de Teams-deelnamelink zelf.' },
} satisfies Record<string, Text | Record<string, Text>>
