import type { ProviderCloud } from '../contract.js'

/** Google's cloud (GOOGLE_* variables override each URL; see providers/endpoints.ts). */
export const googleCloud: ProviderCloud = {
  envPrefix: 'GOOGLE',
  endpoints: {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
    apiUrl: 'https://www.googleapis.com/calendar/v3',
    // Google sends `iss` in authorization responses.
    issuer: 'https://accounts.google.com',
  },
}
