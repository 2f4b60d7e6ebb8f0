import type { ProviderCloud } from '../contract.js'

/** Zoom's cloud (ZOOM_* variables override each URL; see providers/endpoints.ts). */
export const zoomCloud: ProviderCloud = {
  envPrefix: 'ZOOM',
  endpoints: {
    authorizeUrl: 'https://zoom.us/oauth/authorize',
    tokenUrl: 'https://zoom.us/oauth/token',
    revokeUrl: 'https://zoom.us/oauth/revoke',
    userinfoUrl: 'https://api.zoom.us/v2/users/me',
    apiUrl: 'https://api.zoom.us/v2',
  },
}
