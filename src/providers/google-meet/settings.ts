import type { SettingsDefinition } from '../contract.js'

/** Google Meet has no extra settings: a Meet link is all a calendar event's conference carries. */
export type GoogleMeetSettings = Record<string, never>

export const googleMeetSettings: SettingsDefinition = {
  fields: [],
  defaults: (): GoogleMeetSettings => ({}),
  parse: () => ({ settings: {} satisfies GoogleMeetSettings, errors: {} }),
}
