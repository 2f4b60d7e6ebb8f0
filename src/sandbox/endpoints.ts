/** Where the Sandbox lives (inside the app) and the one client it knows: Video Meetings itself. */
import type { ProviderEndpoints } from '../providers/contract.js'
import { deriveKey } from '../security/keys.js'

export const SANDBOX_CLIENT_ID = 'video-meetings-sandbox'

export interface SandboxClient {
  id: string
  secret: string
  redirectUri: string
}

/** The `iss` the sandbox sends with every authorization response (RFC 9207). */
export function sandboxIssuer(baseUrl: string): string {
  return `${baseUrl}/sandbox`
}

/** The one client the sandbox knows: Video Meetings itself, with a secret derived from the master secret. */
export function sandboxClient(baseUrl: string, masterSecret: Buffer): SandboxClient {
  return {
    id: SANDBOX_CLIENT_ID,
    secret: deriveKey(masterSecret, 'sandbox-client-secret').toString('base64url'),
    redirectUri: `${baseUrl}/oauth/sandbox/callback`,
  }
}


/**
 * The browser reaches the Sandbox's sign-in page at BASE_URL; the server calls its token endpoint and API over
 * loopback (`internalUrl`), which works behind any proxy.
 */
export function sandboxEndpoints(baseUrl: string, internalUrl: string): ProviderEndpoints {
  return {
    authorizeUrl: `${baseUrl}/sandbox/oauth/authorize`,
    tokenUrl: `${internalUrl}/sandbox/oauth/token`,
    revokeUrl: `${internalUrl}/sandbox/oauth/revoke`,
    userinfoUrl: `${internalUrl}/sandbox/api/me`,
    apiUrl: `${internalUrl}/sandbox/api`,
  }
}
