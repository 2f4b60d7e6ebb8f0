/** The checks of an authorization request (RFC 6749 4.1.1 with PKCE S256), before the sign-in page is shown. */
import { CONTROL_CHARACTERS } from '../forms.js'
import type { SandboxClient } from './endpoints.js'
import { PKCE_VALUE, sameSecret } from './secrets.js'

export const SANDBOX_SCOPES = ['profile', 'meetings'] as const
export type SandboxScope = (typeof SANDBOX_SCOPES)[number]

const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'] as const
type AuthorizeParamName = (typeof AUTHORIZE_PARAMS)[number]

export interface AuthorizeRequest {
  redirectUri: string
  state: string | undefined
  codeChallenge: string
  scopes: SandboxScope[]
  /** The original parameters, carried through the consent form in hidden fields. */
  params: Partial<Record<AuthorizeParamName, string>>
}

type AuthorizeCheck =
  /** Shown on the page, never redirected: the redirect URI cannot be trusted (RFC 6749 4.1.2.1). */
  | { kind: 'page'; reason: 'invalidClient' | 'invalidRedirect' }
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: string; description: string }
  | { kind: 'ok'; request: AuthorizeRequest }

export function checkAuthorize(source: unknown, client: SandboxClient): AuthorizeCheck {
  const input = source && typeof source === 'object' ? (source as Record<string, unknown>) : {}
  const repeated = AUTHORIZE_PARAMS.filter((name) => Array.isArray(input[name]))
  const one = (name: AuthorizeParamName): string | undefined => (typeof input[name] === 'string' ? (input[name] as string) : undefined)
  const clientId = one('client_id')
  if (clientId === undefined || !sameSecret(clientId, client.id)) return { kind: 'page', reason: 'invalidClient' }
  const redirectUri = one('redirect_uri')
  // Exact match only, and required: the sandbox has a single registered redirect URI but still insists.
  if (redirectUri === undefined || redirectUri !== client.redirectUri) return { kind: 'page', reason: 'invalidRedirect' }

  const state = one('state')
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: 'redirect', redirectUri, state, error, description })
  if (repeated.length) return fail('invalid_request', `repeated parameter: ${repeated.join(', ')}`)
  const responseType = one('response_type')
  if (!responseType) return fail('invalid_request', 'response_type is required')
  if (responseType !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported')
  const codeChallenge = one('code_challenge')
  if (!codeChallenge) return fail('invalid_request', 'code_challenge is required (PKCE)')
  if (one('code_challenge_method') !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256')
  if (!PKCE_VALUE.test(codeChallenge)) return fail('invalid_request', 'code_challenge is malformed')
  if (state !== undefined && (state.length > 2000 || CONTROL_CHARACTERS.test(state))) return fail('invalid_request', 'state is malformed')
  const asked = (one('scope') ?? '').split(' ').filter(Boolean)
  if (!asked.length) return fail('invalid_scope', 'scope is required: profile, meetings')
  const unknown = asked.filter((s) => !(SANDBOX_SCOPES as readonly string[]).includes(s))
  if (unknown.length) return fail('invalid_scope', `unknown scope: ${unknown.join(' ')}`)
  const scopes = SANDBOX_SCOPES.filter((s) => asked.includes(s))
  const params: AuthorizeRequest['params'] = {}
  for (const name of AUTHORIZE_PARAMS) {
    const value = one(name)
    if (value !== undefined) params[name] = value
  }
  return { kind: 'ok', request: { redirectUri, state, codeChallenge, scopes, params } }
}
