/** Teams' extra settings: who skips the lobby, and whether invitations carry the Teams link itself. */
import type { Language } from '../../i18n/languages.js'
import type { ProviderSettings, SettingsDefinition } from '../contract.js'
import { checkbox, select, settingBoolean, settingString, type Form } from '../settings-helpers.js'
import { TEAMS_TEXT } from './text.js'

export const TEAMS_LOBBY_BYPASS = ['everyone', 'organization', 'organizer'] as const
export type TeamsLobbyBypass = (typeof TEAMS_LOBBY_BYPASS)[number]

export type TeamsSettings = {
  lobbyBypass: TeamsLobbyBypass
  preferDirectLink: boolean
}

export function parseTeamsSettings(form: Form, language: Language): { settings: TeamsSettings; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const lobbyBypass = select(form, 'lobbyBypass', TEAMS_LOBBY_BYPASS, 'organization', language, errors)
  return { settings: { lobbyBypass, preferDirectLink: checkbox(form, 'preferDirectLink') }, errors }
}

/** Stored settings as Teams', whatever an older version stored: an unknown lobby value means "organization". */
export function readTeamsSettings(stored: ProviderSettings): TeamsSettings {
  const raw = settingString(stored, 'lobbyBypass', 'organization')
  return {
    lobbyBypass: (TEAMS_LOBBY_BYPASS as readonly string[]).includes(raw) ? (raw as TeamsLobbyBypass) : 'organization',
    preferDirectLink: settingBoolean(stored, 'preferDirectLink', true),
  }
}

export const teamsSettings: SettingsDefinition = {
  fields: [
    {
      name: 'lobbyBypass',
      type: 'select',
      label: TEAMS_TEXT.lobbyBypass,
      options: TEAMS_LOBBY_BYPASS.map((value) => ({ value, label: TEAMS_TEXT.lobby[value] })),
    },
    { name: 'preferDirectLink', type: 'checkbox', label: TEAMS_TEXT.preferDirectLink, hint: TEAMS_TEXT.preferDirectLinkHint },
  ],
  defaults: (): TeamsSettings => ({ lobbyBypass: 'organization', preferDirectLink: true }),
  parse: parseTeamsSettings,
}
