import type { Config } from '../config.js'
import type { ProviderAdapter } from './contract.js'
import { zoomProvider } from './zoom.js'
import { teamsProvider } from './teams.js'
import { googleMeetProvider } from './google-meet.js'
import { webexProvider } from './webex.js'
import { createJitsiProvider } from './jitsi.js'
import { createSandboxProvider } from './sandbox.js'

/** Every provider, in the order the product lists them; the Sandbox last and only when enabled. */
export function createProviders(config: Config): ProviderAdapter[] {
  return [
    zoomProvider,
    teamsProvider,
    googleMeetProvider,
    webexProvider,
    createJitsiProvider(config.providers.jitsiUrl),
    ...(config.providers.sandbox ? [createSandboxProvider(`${config.baseUrl}/sandbox`)] : []),
  ]
}

/** Origins a "Choose <provider>" form may redirect to: CSP form-action must list them (Chrome enforces it). */
export function authorizationOrigins(config: Config): string[] {
  const origins = new Set<string>()
  for (const [id, provider] of Object.entries(config.providers.oauth)) {
    if (id === 'sandbox') continue
    origins.add(new URL(provider.endpoints.authorizeUrl.replace('{tenant}', 'tenant')).origin)
  }
  return [...origins]
}
