/** Webex's extra settings: the password every meeting gets, and join before host. */
import type { Language } from '../../i18n/languages.js'
import type { ProviderSettings, SettingsDefinition, Text } from '../contract.js'
import { checkbox, randomPasscode, settingBoolean, settingString, text, type Form } from '../settings-helpers.js'
import { WEBEX_TEXT } from './text.js'

export const WEBEX_PASSWORD_MIN = 8
export const WEBEX_PASSWORD_MAX = 32
const FORBIDDEN = /[\s\\'"/&<>=[\]]/

const LIMITS_TEXT = {
  passwordHint: {
    en: `${WEBEX_PASSWORD_MIN} to ${WEBEX_PASSWORD_MAX} characters with a capital letter, a small letter and a digit. Your Webex site may ask for more.`,
    nl: `${WEBEX_PASSWORD_MIN} tot ${WEBEX_PASSWORD_MAX} tekens met een hoofdletter, een kleine letter en een cijfer. Uw Webex-site kan meer eisen.`,
  },
  passwordLength: { en: `Use ${WEBEX_PASSWORD_MIN} to ${WEBEX_PASSWORD_MAX} characters.`, nl: `Gebruik ${WEBEX_PASSWORD_MIN} tot ${WEBEX_PASSWORD_MAX} tekens.` },
} satisfies Record<string, Text>

export type WebexSettings = {
  password: string
  joinBeforeHost: boolean
}

/** Twelve characters of every class: most sites' complexity rules accept it. */
export function webexPassword(): string {
  return randomPasscode(12, { special: '@#' })
}

export function parseWebexSettings(form: Form, language: Language): { settings: WebexSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const password = text(form, 'password', language, errors, true)
  if (!errors.password) {
    if (FORBIDDEN.test(password)) errors.password = WEBEX_TEXT.passwordChars[language]
    else if (password.length < WEBEX_PASSWORD_MIN || password.length > WEBEX_PASSWORD_MAX) errors.password = LIMITS_TEXT.passwordLength[language]
    else if (!/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password)) errors.password = WEBEX_TEXT.passwordClasses[language]
  }
  return { settings: { password, joinBeforeHost: checkbox(form, 'joinBeforeHost') }, errors }
}

/** Stored settings as Webex's, whatever an older version stored (password '' when missing). */
export function readWebexSettings(stored: ProviderSettings): WebexSettings {
  return { password: settingString(stored, 'password', ''), joinBeforeHost: settingBoolean(stored, 'joinBeforeHost', false) }
}

export const webexSettings: SettingsDefinition = {
  fields: [
    { name: 'password', type: 'text', required: true, maxLength: WEBEX_PASSWORD_MAX, label: WEBEX_TEXT.password, hint: LIMITS_TEXT.passwordHint },
    { name: 'joinBeforeHost', type: 'checkbox', label: WEBEX_TEXT.joinBeforeHost },
  ],
  defaults: (): WebexSettings => ({ password: webexPassword(), joinBeforeHost: false }),
  parse: parseWebexSettings,
}
