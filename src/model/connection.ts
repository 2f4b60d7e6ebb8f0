/**
 * What a connection to a provider keeps: its tokens, and the extra settings of the organization's provider. A leaf
 * module, so storage can keep them without importing the OAuth client or the provider contract.
 */

/** What the app keeps of a token response. */
export interface TokenSet {
  accessToken: string
  refreshToken: string | null
  /** Epoch milliseconds; null when the provider did not say. */
  expiresAt: number | null
  /** The granted scope as the provider reported it, or null when the response had none. */
  scope: string | null
}

export type SettingValue = string | boolean
/** The organization provider's extra settings (Zoom's passcode, ...), as stored. */
export type ProviderSettings = Record<string, SettingValue>
