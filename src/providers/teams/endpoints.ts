import type { ProviderCloud, RegistrationField } from '../contract.js'
import { TEAMS_TEXT } from './text.js'

const TENANT = /^(common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i

export function isTenant(value: string): boolean {
  return TENANT.test(value)
}

/** The directory the app signs people in from: `{tenant}` in the endpoint URLs, TEAMS_TENANT in the environment. */
export const TEAMS_REGISTRATION_FIELDS: readonly RegistrationField[] = [
  {
    name: 'tenant',
    default: 'organizations',
    maxLength: 100,
    valid: isTenant,
    label: TEAMS_TEXT.tenant,
    hint: TEAMS_TEXT.tenantHint,
    invalid: TEAMS_TEXT.tenantInvalid,
    invalidInEnvironment: 'must be common, organizations, a tenant id (GUID) or a domain',
  },
]

/** Microsoft's cloud (TEAMS_* variables override each URL and the tenant; see providers/endpoints.ts). */
export const teamsCloud: ProviderCloud = {
  envPrefix: 'TEAMS',
  endpoints: {
    authorizeUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    // Microsoft has no RFC 7009 endpoint; revokeSignInSessions would sign the user out everywhere.
    revokeUrl: null,
    userinfoUrl: 'https://graph.microsoft.com/v1.0/me',
    apiUrl: 'https://graph.microsoft.com/v1.0',
  },
  registrationFields: TEAMS_REGISTRATION_FIELDS,
}
