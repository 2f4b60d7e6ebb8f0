/** The Sandbox's extra settings: a passcode and a waiting room, like the real providers'. */
import type { Language } from '../i18n/languages.js'
import type { ProviderSettings, SettingsDefinition } from '../providers/contract.js'
import { checkbox, randomPasscode, settingBoolean, settingString, type Form } from '../providers/settings-helpers.js'
import { SANDBOX_PROVIDER_TEXT } from './text.js'

const PASSCODE = /^[A-Za-z0-9]{6,10}$/

export type SandboxSettings = {
  passcode: string
  waitingRoom: boolean
}

export function parseSandboxSettings(form: Form, language: Language): { settings: SandboxSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const passcode = (form.passcode ?? '').trim()
  if (!passcode) errors.passcode = SANDBOX_PROVIDER_TEXT.passcodeRequired[language]
  else if (!PASSCODE.test(passcode)) errors.passcode = SANDBOX_PROVIDER_TEXT.passcodeFormat[language]
  return { settings: { passcode, waitingRoom: checkbox(form, 'waitingRoom') }, errors }
}

/** Stored settings as the Sandbox's (passcode '' when missing: the Sandbox then makes one up). */
export function readSandboxSettings(stored: ProviderSettings): SandboxSettings {
  return { passcode: settingString(stored, 'passcode', ''), waitingRoom: settingBoolean(stored, 'waitingRoom', false) }
}

export const sandboxSettings: SettingsDefinition = {
  fields: [
    { name: 'passcode', type: 'text', label: SANDBOX_PROVIDER_TEXT.passcode, hint: SANDBOX_PROVIDER_TEXT.passcodeHint, required: true, maxLength: 10 },
    { name: 'waitingRoom', type: 'checkbox', label: SANDBOX_PROVIDER_TEXT.waitingRoom },
  ],
  defaults: (): SandboxSettings => ({ passcode: randomPasscode(8), waitingRoom: false }),
  parse: parseSandboxSettings,
}
