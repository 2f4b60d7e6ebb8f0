import { ConfigError, httpUrl } from '../env.js'
import type { ProviderEndpoints } from './contract.js'

export type OAuthProviderId = 'zoom' | 'teams' | 'google-meet' | 'webex' | 'sandbox'
type Env = Record<string, string | undefined>

export interface OAuthProviderConfig {
  /** Endpoints; `{tenant}` in a URL is replaced by the effective tenant (Teams). */
  endpoints: ProviderEndpoints
  /** Client credentials from the environment: they win over the admin form, which then shows them as set. */
  envClient: { id: string; secret: string } | null
  /** Teams only: the tenant from TEAMS_TENANT, if set. */
  envTenant: string | null
}

export interface ProvidersConfig {
  oauth: Record<OAuthProviderId, OAuthProviderConfig>
  sandbox: boolean
  jitsiUrl: string
  /** Bounded time for every call to a provider (token, user info, API). */
  httpTimeoutMs: number
}

/** The real clouds. Checked against each provider's documentation (see PROVIDERS.md and the adapters). */
const DEFAULTS: Record<'ZOOM' | 'TEAMS' | 'GOOGLE' | 'WEBEX', ProviderEndpoints> = {
  ZOOM: {
    authorizeUrl: 'https://zoom.us/oauth/authorize',
    tokenUrl: 'https://zoom.us/oauth/token',
    revokeUrl: 'https://zoom.us/oauth/revoke',
    userinfoUrl: 'https://api.zoom.us/v2/users/me',
    apiUrl: 'https://api.zoom.us/v2',
  },
  TEAMS: {
    authorizeUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    // Microsoft has no RFC 7009 endpoint; revokeSignInSessions would sign the user out everywhere.
    revokeUrl: null,
    userinfoUrl: 'https://graph.microsoft.com/v1.0/me',
    apiUrl: 'https://graph.microsoft.com/v1.0',
  },
  GOOGLE: {
    authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    revokeUrl: 'https://oauth2.googleapis.com/revoke',
    userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
    apiUrl: 'https://www.googleapis.com/calendar/v3',
    // Google sends `iss` in authorization responses.
    issuer: 'https://accounts.google.com',
  },
  WEBEX: {
    authorizeUrl: 'https://webexapis.com/v1/authorize',
    tokenUrl: 'https://webexapis.com/v1/access_token',
    // Webex's Authorizations API is admin-only: users revoke grants in Webex itself.
    revokeUrl: null,
    userinfoUrl: 'https://webexapis.com/v1/people/me',
    apiUrl: 'https://webexapis.com/v1',
  },
}

function url(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  httpUrl(name, raw.replace('{tenant}', 'tenant')) // validates; throws a ConfigError naming the variable
  return raw.replace(/\/+$/, '')
}

function endpointsFor(env: Env, prefix: string, defaults: ProviderEndpoints): ProviderEndpoints {
  const revokeRaw = env[`${prefix}_REVOKE_URL`]
  const authorizeUrl = url(env, `${prefix}_AUTHORIZE_URL`, defaults.authorizeUrl)
  // RFC 9207: the default cloud's issuer; for an overridden server, its origin unless <P>_ISSUER says otherwise.
  const issuer = env[`${prefix}_ISSUER`]?.trim() || (authorizeUrl === defaults.authorizeUrl ? defaults.issuer : new URL(authorizeUrl.replace('{tenant}', 'tenant')).origin)
  return {
    ...(issuer && { issuer }),
    authorizeUrl,
    tokenUrl: url(env, `${prefix}_TOKEN_URL`, defaults.tokenUrl),
    // Set to an empty value to say "this provider has no revocation endpoint here".
    revokeUrl: revokeRaw !== undefined && revokeRaw.trim() === '' ? null : revokeRaw ? url(env, `${prefix}_REVOKE_URL`, '') : defaults.revokeUrl,
    userinfoUrl: url(env, `${prefix}_USERINFO_URL`, defaults.userinfoUrl),
    apiUrl: url(env, `${prefix}_API_URL`, defaults.apiUrl),
  }
}

function envClient(env: Env, prefix: string): { id: string; secret: string } | null {
  const id = env[`${prefix}_CLIENT_ID`]?.trim()
  const secret = env[`${prefix}_CLIENT_SECRET`]?.trim()
  if (!id && !secret) return null
  if (!id) throw new ConfigError(`${prefix}_CLIENT_ID`, `is required when ${prefix}_CLIENT_SECRET is set`)
  if (!secret) throw new ConfigError(`${prefix}_CLIENT_SECRET`, `is required when ${prefix}_CLIENT_ID is set`)
  return { id, secret }
}

const TENANT = /^(common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i

export function isTenant(value: string): boolean {
  return TENANT.test(value)
}

/**
 * Provider settings from the environment, for the operator only: nobody can aim the token request (which
 * carries the client secret) at another host from a web form.
 */
export function loadProvidersConfig(env: Env, options: { baseUrl: string; internalUrl: string; production: boolean }): ProvidersConfig {
  const tenant = env.TEAMS_TENANT?.trim() || null
  if (tenant && !isTenant(tenant)) throw new ConfigError('TEAMS_TENANT', 'must be common, organizations, a tenant id (GUID) or a domain')
  const sandboxRaw = env.SANDBOX?.trim().toLowerCase()
  if (sandboxRaw && !['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(sandboxRaw)) {
    throw new ConfigError('SANDBOX', `must be 1 or 0, got "${sandboxRaw}"`)
  }
  const sandbox = sandboxRaw ? ['1', 'true', 'yes', 'on'].includes(sandboxRaw) : !options.production
  const jitsiUrl = url(env, 'JITSI_URL', 'https://meet.jit.si')
  if (!jitsiUrl.startsWith('https://')) throw new ConfigError('JITSI_URL', 'must be an https URL')
  const timeoutRaw = env.PROVIDER_TIMEOUT_MS?.trim()
  const httpTimeoutMs = timeoutRaw ? Number(timeoutRaw) : 10_000
  if (!Number.isInteger(httpTimeoutMs) || httpTimeoutMs < 100 || httpTimeoutMs > 120_000) {
    throw new ConfigError('PROVIDER_TIMEOUT_MS', 'must be a whole number of milliseconds between 100 and 120000')
  }
  return {
    sandbox,
    jitsiUrl,
    httpTimeoutMs,
    oauth: {
      zoom: { endpoints: endpointsFor(env, 'ZOOM', DEFAULTS.ZOOM), envClient: envClient(env, 'ZOOM'), envTenant: null },
      teams: { endpoints: endpointsFor(env, 'TEAMS', DEFAULTS.TEAMS), envClient: envClient(env, 'TEAMS'), envTenant: tenant },
      'google-meet': { endpoints: endpointsFor(env, 'GOOGLE', DEFAULTS.GOOGLE), envClient: envClient(env, 'GOOGLE'), envTenant: null },
      webex: { endpoints: endpointsFor(env, 'WEBEX', DEFAULTS.WEBEX), envClient: envClient(env, 'WEBEX'), envTenant: null },
      // The browser reaches the sandbox's sign-in page at BASE_URL; the server calls its token endpoint and
      // API over loopback, which works behind any proxy.
      sandbox: {
        endpoints: {
          authorizeUrl: `${options.baseUrl}/sandbox/oauth/authorize`,
          tokenUrl: `${options.internalUrl}/sandbox/oauth/token`,
          revokeUrl: `${options.internalUrl}/sandbox/oauth/revoke`,
          userinfoUrl: `${options.internalUrl}/sandbox/api/me`,
          apiUrl: `${options.internalUrl}/sandbox/api`,
        },
        envClient: null,
        envTenant: null,
      },
    },
  }
}

/** Endpoints with the tenant filled in (Teams' defaults contain `{tenant}`). */
export function resolveEndpoints(endpoints: ProviderEndpoints, tenant: string): ProviderEndpoints {
  const fill = (u: string) => u.replace('{tenant}', encodeURIComponent(tenant))
  return {
    ...(endpoints.issuer && { issuer: endpoints.issuer }),
    authorizeUrl: fill(endpoints.authorizeUrl),
    tokenUrl: fill(endpoints.tokenUrl),
    revokeUrl: endpoints.revokeUrl && fill(endpoints.revokeUrl),
    userinfoUrl: fill(endpoints.userinfoUrl),
    apiUrl: fill(endpoints.apiUrl),
  }
}
