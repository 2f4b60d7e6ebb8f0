/**
 * Every provider, one line each, in the order the product lists them. The provider ids and the ProviderId type
 * are derived from this list: adding a provider is adding its folder and its line here. (The Sandbox is not
 * listed: src/sandbox/ hands its adapter to the app only when it is enabled.)
 */
import type { ProviderAdapter } from './contract.js'
import { zoom } from './zoom/index.js'
import { teams } from './teams/index.js'
import { googleMeet } from './google-meet/index.js'
import { webex } from './webex/index.js'
import { jitsi } from './jitsi/index.js'

export const PROVIDER_MODULES = [
  zoom,
  teams,
  googleMeet,
  webex,
  jitsi,
] as const

export type ProviderId = (typeof PROVIDER_MODULES)[number]['id']
export const PROVIDER_IDS: readonly ProviderId[] = PROVIDER_MODULES.map((module) => module.id)

/** The listed providers' adapters, built with the operator's provider-wide settings (config.providers). */
export function createProviders(defaults: { jitsiUrl: string }): ProviderAdapter[] {
  return PROVIDER_MODULES.map((module) => module.create(defaults))
}
