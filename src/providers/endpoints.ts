/**
 * The providers' settings from the environment: each cloud provider's endpoints (its folder's defaults, each URL
 * overridable as <PREFIX>_AUTHORIZE_URL ...), client credentials and registration fields (<PREFIX>_<FIELD>), plus
 * the Sandbox switch, Jitsi's default server and the time limit for provider calls. Read once at start.
 */
import { ConfigError, httpUrl } from '../env.js'
import type { ProviderCloud, ProviderEndpoints } from './contract.js'
import { PROVIDER_MODULES } from './registry.js'

type Env = Record<string, string | undefined>

export interface OAuthProviderConfig {
  /** Endpoints; `{name}` in a URL is replaced by the registration field of that name (Teams' `{tenant}`). */
  endpoints: ProviderEndpoints
  /** Client credentials from the environment: they win over the admin form, which then shows them as set. */
  envClient: { id: string; secret: string } | null
  /** Registration fields set in the environment (<PREFIX>_<NAME>, e.g. TEAMS_TENANT), checked at start. */
  envFields: Record<string, string>
}

export interface ProvidersConfig {
  /** Per provider with a cloud (registry.ts), by provider id. */
  oauth: Record<string, OAuthProviderConfig>
  sandbox: boolean
  jitsiUrl: string
  /** Bounded time for every call to a provider (token, user info, API). */
  httpTimeoutMs: number
  /** The app's own address over loopback, for providers it serves itself (the Sandbox's token endpoint and API). */
  internalUrl: string
}

/** A URL with its `{name}` placeholders filled in with the name itself: something URL() can check. */
const placeholdersNamed = (url: string) => url.replace(/\{(\w+)\}/g, '$1')

function url(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim()
  if (!raw) return fallback
  httpUrl(name, placeholdersNamed(raw)) // validates; throws a ConfigError naming the variable
  return raw.replace(/\/+$/, '')
}

function endpointsFor(env: Env, prefix: string, defaults: ProviderEndpoints): ProviderEndpoints {
  const revokeRaw = env[`${prefix}_REVOKE_URL`]
  const authorizeUrl = url(env, `${prefix}_AUTHORIZE_URL`, defaults.authorizeUrl)
  // RFC 9207: the default cloud's issuer; for an overridden server, its origin unless <P>_ISSUER says otherwise.
  const issuer = env[`${prefix}_ISSUER`]?.trim() || (authorizeUrl === defaults.authorizeUrl ? defaults.issuer : new URL(placeholdersNamed(authorizeUrl)).origin)
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

function envFields(env: Env, cloud: ProviderCloud): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const field of cloud.registrationFields ?? []) {
    const name = `${cloud.envPrefix}_${field.name.toUpperCase()}`
    const value = env[name]?.trim()
    if (!value) continue
    if (!field.valid(value)) throw new ConfigError(name, field.invalidInEnvironment)
    fields[field.name] = value
  }
  return fields
}

/**
 * Provider settings from the environment, for the operator only: nobody can aim the token request (which
 * carries the client secret) at another host from a web form.
 */
export function loadProvidersConfig(env: Env, options: { internalUrl: string; production: boolean }): ProvidersConfig {
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
    internalUrl: options.internalUrl,
    oauth: Object.fromEntries(
      PROVIDER_MODULES.flatMap(({ id, cloud }) =>
        cloud ? [[id, { endpoints: endpointsFor(env, cloud.envPrefix, cloud.endpoints), envClient: envClient(env, cloud.envPrefix), envFields: envFields(env, cloud) }]] : [],
      ),
    ),
  }
}

/** Origins a "Choose <provider>" form may redirect to: CSP form-action must list them (Chrome enforces it). */
export function authorizationOrigins(config: ProvidersConfig): string[] {
  return [...new Set(Object.values(config.oauth).map((provider) => new URL(placeholdersNamed(provider.endpoints.authorizeUrl)).origin))]
}

/** Endpoints with the registration fields filled in (Teams' defaults contain `{tenant}`). */
export function resolveEndpoints(endpoints: ProviderEndpoints, fields: Record<string, string>): ProviderEndpoints {
  const fill = (u: string) => u.replace(/\{(\w+)\}/g, (whole, name: string) => (name in fields ? encodeURIComponent(fields[name]!) : whole))
  return {
    ...(endpoints.issuer && { issuer: endpoints.issuer }),
    authorizeUrl: fill(endpoints.authorizeUrl),
    tokenUrl: fill(endpoints.tokenUrl),
    revokeUrl: endpoints.revokeUrl && fill(endpoints.revokeUrl),
    userinfoUrl: fill(endpoints.userinfoUrl),
    apiUrl: fill(endpoints.apiUrl),
  }
}
