import type { ProviderCloud } from '../contract.js'

/** Webex's cloud (WEBEX_* variables override each URL; see providers/endpoints.ts). */
export const webexCloud: ProviderCloud = {
  envPrefix: 'WEBEX',
  endpoints: {
    authorizeUrl: 'https://webexapis.com/v1/authorize',
    tokenUrl: 'https://webexapis.com/v1/access_token',
    // Webex's Authorizations API is admin-only: users revoke grants in Webex itself.
    revokeUrl: null,
    userinfoUrl: 'https://webexapis.com/v1/people/me',
    apiUrl: 'https://webexapis.com/v1',
  },
}
