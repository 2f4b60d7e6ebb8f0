/** Zoom's extra settings: the passcode every meeting gets, waiting room, join before host, cloud recording. */
import type { Language } from '../../i18n/languages.js'
import type { ProviderSettings, SettingsDefinition, Text } from '../contract.js'
import { checkbox, randomPasscode, select, settingBoolean, settingString, text, type Form } from '../settings-helpers.js'
import { ZOOM_TEXT } from './text.js'

export const ZOOM_RECORDING = ['none', 'local', 'cloud'] as const
export type ZoomRecording = (typeof ZOOM_RECORDING)[number]

export const ZOOM_PASSCODE_MIN = 6
export const ZOOM_PASSCODE_MAX = 10
const PASSCODE = /^[A-Za-z0-9@\-_*]+$/
const PASSCODE_SPECIAL = '@-_*'

const LIMITS_TEXT = {
  passcodeHint: {
    en: `${ZOOM_PASSCODE_MIN} to ${ZOOM_PASSCODE_MAX} letters, digits or @ - _ *. Your Zoom account may ask for more (for example a digit and a special character).`,
    nl: `${ZOOM_PASSCODE_MIN} tot ${ZOOM_PASSCODE_MAX} letters, cijfers of @ - _ *. Uw Zoom-account kan meer eisen (bijvoorbeeld een cijfer en een speciaal teken).`,
  },
  passcodeLength: { en: `Use ${ZOOM_PASSCODE_MIN} to ${ZOOM_PASSCODE_MAX} characters.`, nl: `Gebruik ${ZOOM_PASSCODE_MIN} tot ${ZOOM_PASSCODE_MAX} tekens.` },
} satisfies Record<string, Text>

export type ZoomSettings = {
  passcode: string
  waitingRoom: boolean
  joinBeforeHost: boolean
  autoRecording: ZoomRecording
}

/** Ten characters of every class, so accounts with stricter passcode rules than Zoom's minimum accept it too. */
export function zoomPasscode(): string {
  return randomPasscode(ZOOM_PASSCODE_MAX, { special: PASSCODE_SPECIAL })
}

/** Checks the posted form: the settings, or an error per field in the given language. */
export function parseZoomSettings(form: Form, language: Language): { settings: ZoomSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const passcode = text(form, 'passcode', language, errors, true)
  if (!errors.passcode) {
    if (!PASSCODE.test(passcode)) errors.passcode = ZOOM_TEXT.passcodeChars[language]
    else if (passcode.length < ZOOM_PASSCODE_MIN || passcode.length > ZOOM_PASSCODE_MAX) errors.passcode = LIMITS_TEXT.passcodeLength[language]
  }
  const autoRecording = select(form, 'autoRecording', ZOOM_RECORDING, 'none', language, errors)
  return {
    settings: { passcode, waitingRoom: checkbox(form, 'waitingRoom'), joinBeforeHost: checkbox(form, 'joinBeforeHost'), autoRecording },
    errors,
  }
}

/** Stored settings as Zoom's, whatever an older version stored: missing or odd values fall back (passcode ''). */
export function readZoomSettings(stored: ProviderSettings): ZoomSettings {
  const recording = settingString(stored, 'autoRecording', 'none')
  return {
    passcode: settingString(stored, 'passcode', ''),
    waitingRoom: settingBoolean(stored, 'waitingRoom', false),
    joinBeforeHost: settingBoolean(stored, 'joinBeforeHost', false),
    autoRecording: (ZOOM_RECORDING as readonly string[]).includes(recording) ? (recording as ZoomRecording) : 'none',
  }
}

export const zoomSettings: SettingsDefinition = {
  fields: [
    { name: 'passcode', type: 'text', required: true, maxLength: ZOOM_PASSCODE_MAX, label: ZOOM_TEXT.passcode, hint: LIMITS_TEXT.passcodeHint },
    { name: 'waitingRoom', type: 'checkbox', label: ZOOM_TEXT.waitingRoom },
    { name: 'joinBeforeHost', type: 'checkbox', label: ZOOM_TEXT.joinBeforeHost },
    {
      name: 'autoRecording',
      type: 'select',
      label: ZOOM_TEXT.autoRecording,
      options: ZOOM_RECORDING.map((value) => ({ value, label: ZOOM_TEXT.recording[value] })),
    },
  ],
  defaults: (): ZoomSettings => ({ passcode: zoomPasscode(), waitingRoom: false, joinBeforeHost: false, autoRecording: 'none' }),
  parse: parseZoomSettings,
}
