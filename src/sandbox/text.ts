/**
 * Screen text of the Sandbox: its own pages (SandboxText), and what its adapter shows on the app's pages
 * (SANDBOX_PROVIDER_TEXT). The sandbox is a self-contained test provider, so its words live here rather than in
 * the app's catalog; both languages have every key (checked by the types).
 */
import type { Language } from '../i18n/languages.js'
import type { Text } from '../providers/contract.js'

export const SANDBOX_PROVIDER_TEXT = {
  badge: { en: 'Sandbox', nl: 'Sandbox' },
  note: {
    en: 'A test provider built into Video Meetings: try the whole flow without an account anywhere. No real meetings are created.',
    nl: 'Een testprovider die in Video Meetings is ingebouwd: probeer alles uit zonder ergens een account. Er worden geen echte vergaderingen gemaakt.',
  },
  registrationHelp: {
    en: 'No registration is needed: the Sandbox is built into Video Meetings and knows the app already.',
    nl: 'Registreren is niet nodig: de Sandbox is in Video Meetings ingebouwd en kent de app al.',
  },
  passcode: { en: 'Meeting passcode', nl: 'Toegangscode voor vergaderingen' },
  passcodeHint: { en: '6 to 10 letters or digits.', nl: '6 tot 10 letters of cijfers.' },
  passcodeRequired: { en: 'Enter a passcode.', nl: 'Vul een toegangscode in.' },
  passcodeFormat: { en: 'Use 6 to 10 letters or digits, without spaces.', nl: 'Gebruik 6 tot 10 letters of cijfers, zonder spaties.' },
  waitingRoom: { en: 'Waiting room: the host lets attendees in', nl: 'Wachtruimte: de organisator laat deelnemers binnen' },
} satisfies Record<string, Text>

const en = {
  banner: 'Sandbox — a test provider built into Video Meetings; no real meetings are created.',
  authorizeTitle: 'Sign in to the Sandbox',
  intro: 'Video Meetings asks to use your Sandbox account. There is no password: type any email address and a Sandbox account is created the first time you use it.',
  email: 'Sandbox account email',
  name: 'Display name',
  scopesLegend: 'Video Meetings may:',
  scopesHint: 'Untick a permission to leave it out of the grant (to see how Video Meetings handles a partial grant).',
  scope_profile: 'See your name and email address (profile)',
  scope_meetings: 'Create, change and delete your meetings (meetings)',
  allow: 'Allow',
  deny: 'Deny',
  errorRequired: 'Fill this in.',
  errorEmail: 'Enter an email address such as name@example.com.',
  errorTooLong: 'Use at most {max} characters.',
  errorControlChars: 'Remove the control characters.',
  errorNoScope: 'Tick at least one permission, or choose Deny.',
  errorForm: 'Check the fields marked below.',
  invalidTitle: 'Sandbox: this sign-in request is not valid',
  invalidClient: 'The request does not come from an app the Sandbox knows (client_id). Go back to Video Meetings and start again.',
  invalidRedirect: 'The request asks to return to an address the Sandbox does not allow (redirect_uri). Go back to Video Meetings and start again.',
  meetingTitle: 'Sandbox meeting: {title}',
  meetingNote: 'This is a test meeting of the Sandbox provider: there is no video call to join.',
  starts: 'Starts',
  ends: 'Ends',
  timeZone: 'Time zone',
  waitingRoom: 'Waiting room',
  on: 'On',
  off: 'Off',
}

export type SandboxText = typeof en

const nl: SandboxText = {
  banner: 'Sandbox — een testprovider die in Video Meetings is ingebouwd; er worden geen echte vergaderingen gemaakt.',
  authorizeTitle: 'Aanmelden bij de Sandbox',
  intro: 'Video Meetings vraagt toegang tot uw Sandbox-account. Er is geen wachtwoord: typ een willekeurig e-mailadres en bij het eerste gebruik wordt een Sandbox-account aangemaakt.',
  email: 'E-mailadres van het Sandbox-account',
  name: 'Weergavenaam',
  scopesLegend: 'Video Meetings mag:',
  scopesHint: 'Vink een toestemming uit om die niet te verlenen (om te zien hoe Video Meetings met een gedeeltelijke toestemming omgaat).',
  scope_profile: 'Uw naam en e-mailadres zien (profile)',
  scope_meetings: 'Uw vergaderingen maken, wijzigen en verwijderen (meetings)',
  allow: 'Toestaan',
  deny: 'Weigeren',
  errorRequired: 'Vul dit in.',
  errorEmail: 'Vul een e-mailadres in, zoals naam@voorbeeld.nl.',
  errorTooLong: 'Gebruik hoogstens {max} tekens.',
  errorControlChars: 'Verwijder de stuurtekens.',
  errorNoScope: 'Vink minstens één toestemming aan, of kies Weigeren.',
  errorForm: 'Controleer de gemarkeerde velden hieronder.',
  invalidTitle: 'Sandbox: dit aanmeldverzoek is niet geldig',
  invalidClient: 'Het verzoek komt niet van een app die de Sandbox kent (client_id). Ga terug naar Video Meetings en begin opnieuw.',
  invalidRedirect: 'Het verzoek wil terugkeren naar een adres dat de Sandbox niet toestaat (redirect_uri). Ga terug naar Video Meetings en begin opnieuw.',
  meetingTitle: 'Sandbox-vergadering: {title}',
  meetingNote: 'Dit is een testvergadering van de Sandbox-provider: er is geen videogesprek om aan deel te nemen.',
  starts: 'Begint',
  ends: 'Eindigt',
  timeZone: 'Tijdzone',
  waitingRoom: 'Wachtruimte',
  on: 'Aan',
  off: 'Uit',
}

const texts: Record<Language, SandboxText> = { en, nl }

export function sandboxText(language: Language): SandboxText {
  return texts[language] ?? en
}

/** Fills `{name}` placeholders. */
export function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole))
}
