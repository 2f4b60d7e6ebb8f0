/**
 * The provider contract: what the app needs from a video meeting service. Adding a provider means adding
 * one folder (src/providers/<id>/) whose index.ts exports a ProviderModule, and one line in registry.ts;
 * nothing else changes. What sets a provider apart (a tenant field, a built-in registration, a badge) is
 * declared here as a capability, never tested by name outside its folder.
 */
import type { Language } from '../i18n/languages.js'
import { englishReason, type Reason } from './reason.js'
import type { DialIn } from '../model/meeting.js'
import type { ProviderSettings, SettingValue } from '../model/connection.js'

export type { DialIn }

/** Screen text a provider brings along, in every UI language (providers stay self-contained modules). */
export type Text = Record<Language, string>

/** Where a provider lives. Defaults are the real clouds; every one is overridable from the environment only. */
export interface ProviderEndpoints {
  authorizeUrl: string
  tokenUrl: string
  /** null: the provider has no token revocation endpoint for this kind of app. */
  revokeUrl: string | null
  userinfoUrl: string
  apiUrl: string
  /** The authorization server's issuer identifier (RFC 9207 `iss`), where known. */
  issuer?: string
}

/**
 * A field of the app registration besides client id and secret (Teams: the tenant). Its value fills the
 * `{name}` placeholder of the endpoint URLs; <PREFIX>_<NAME> in the environment sets it and then wins over the
 * admin form. Stored in provider_clients' column of that name, hence the closed set of names.
 */
export interface RegistrationField {
  name: 'tenant'
  /** Used when neither the environment nor the form gives a value. */
  default: string
  maxLength: number
  valid(value: string): boolean
  label: Text
  hint: Text
  /** Shown on the form when valid() refuses the typed value. */
  invalid: Text
  /** The configuration error when valid() refuses the environment's value ("must be ..."). */
  invalidInEnvironment: string
}

/** A registration the provider brings along (the Sandbox): no admin form, no environment variables. */
export interface BuiltInRegistration {
  client: { id: string; secret: string }
  endpoints: ProviderEndpoints
}

/** Where a cloud provider lives by default, and the prefix of its environment variables (<P>_CLIENT_ID, <P>_TOKEN_URL ...). */
export interface ProviderCloud {
  envPrefix: string
  endpoints: ProviderEndpoints
  registrationFields?: readonly RegistrationField[]
}

export interface OAuthSpec {
  /** Scopes asked for in the authorization request (space separated on the wire). */
  scopes: string[]
  /** Scopes the grant must contain; checked against the token response's `scope` when it has one. */
  requiredScopes: string[]
  /** How the client authenticates at the token endpoint: HTTP Basic (Zoom) or id + secret in the body. */
  clientAuth: 'header' | 'body'
  /** Extra authorization request parameters (Google: access_type=offline, prompt=consent). */
  authorizeParams?: Record<string, string>
  /** Parameters a refresh request must carry again (Microsoft: scope). */
  refreshParams?: Record<string, string>
  /** The expected `iss` of authorization responses (RFC 9207), for providers that send it. */
  issuer?: (endpoints: ProviderEndpoints) => string
  /** Where an admin registers the app (shown on the client form). */
  consoleUrl: string
  /** What the admin must know when registering the app (redirect URI is shown separately). */
  registrationHelp: Text
  /** Fields of the registration besides client id and secret, asked on the client form. */
  registrationFields?: readonly RegistrationField[]
  /** The provider brings its own registration and endpoints: nothing to set up. */
  builtIn?: BuiltInRegistration
}

export interface Identity {
  /** The provider's stable id of the account. */
  accountId: string
  /** Display name, or the email when there is none. */
  name: string
  email?: string
}

/** A meeting as the app asks for it. */
export interface MeetingInput {
  title: string
  start: Date
  end: Date
  /** IANA zone of the follow-up, e.g. Europe/Amsterdam. */
  timeZone: string
  description?: string
  /**
   * Stable per follow-up meeting: providers with idempotency support (Google's requestId) use it, and
   * adapters may use it to find a meeting a timed-out create did make.
   */
  requestId: string
}

/** What the app keeps about a meeting at the provider. */
export interface MeetingRef {
  externalId: string
  joinUrl: string
  passcode?: string
  dialIn?: DialIn[]
  /** The passcode people joining by phone or from a video system type: digits only (Zoom, Webex). */
  phonePasscode?: string
  /** An ID to join the meeting by, with the passcode (Teams' meeting ID). */
  meetingCode?: string
  /** Google: the conference is still being created; poll with `refresh` until ready. */
  pending?: boolean
  /** An update the provider could only partly take: what it kept as it was, and why (shown to the user). */
  kept?: Reason
}

export type ProviderErrorKind =
  /** The connection's grant is gone (invalid_grant, 401 after refresh, revoked consent): reconnect. */
  | 'reauth'
  /** Transient (timeout, network, 429, 5xx, garbage body): retry later, honouring retryAfterMs. */
  | 'retry'
  /** The meeting does not exist (404/410): for delete, that counts as done. */
  | 'not_found'
  /** Permanent for this request (400, 403 policy, personal account): show the message, do not retry. */
  | 'fail'

export class ProviderError extends Error {
  /**
   * Why, as data (see reason.ts): what users read, in their language. Absent for the few errors that only have
   * an English message, which is then shown as it is.
   */
  readonly reason: Reason | undefined

  /**
   * `why` is the reason (the message is its English rendering) or, for logs only, a message of its own; a message
   * can still come with a reason for the users (`reason`).
   */
  constructor(
    readonly kind: ProviderErrorKind,
    why: string | Reason,
    readonly details: { status?: number; code?: string; retryAfterMs?: number; userMessage?: Text } = {},
    reason?: Reason,
  ) {
    super(typeof why === 'string' ? why : englishReason(why))
    this.name = 'ProviderError'
    this.reason = typeof why === 'string' ? reason : why
  }
}

/** An authenticated client for the provider's API (bearer token added, timeout bounded, errors mapped). */
export interface ApiClient {
  /**
   * `path` is joined to the provider's apiUrl unless it is an absolute URL. JSON bodies are sent as JSON.
   * Resolves for 2xx (body parsed when JSON, else null); throws ProviderError otherwise.
   */
  request<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown, query?: Record<string, string>): Promise<{ status: number; body: T }>
}

export type { ProviderSettings, SettingValue }

export interface SettingField {
  name: string
  type: 'text' | 'checkbox' | 'select' | 'url'
  label: Text
  hint?: Text
  options?: { value: string; label: Text }[]
  required?: boolean
  maxLength?: number
}

export interface SettingsDefinition {
  fields: SettingField[]
  /** Defaults for a fresh connection (Zoom proposes a random passcode). */
  defaults(): ProviderSettings
  /**
   * Validates posted form values (strings, checkboxes absent when off). Returns the settings or an error
   * message per field, in the given language.
   */
  parse(form: Record<string, string | undefined>, language: Language): { settings: ProviderSettings; errors: Record<string, string> }
}

export interface ProviderAdapter {
  /** Stable: stored with connections and meetings, part of the redirect URI. */
  id: string
  name: string
  /** Shown next to the name in the provider list (e.g. "needs a work or school account"). */
  note?: Text
  /** A badge next to the name wherever the provider is named on the settings pages (the Sandbox's). */
  badge?: Text
  /** null: no sign-in (Jitsi). */
  oauth: OAuthSpec | null
  settings: SettingsDefinition
  /**
   * Who signed in, from the provider's user-info endpoint (userinfoUrl) and the token response. May throw
   * ProviderError('fail', ..., { userMessage }) to refuse the account (Teams: personal Microsoft account).
   */
  identity(api: ApiClient, endpoints: ProviderEndpoints, tokenResponse: Record<string, unknown>): Promise<Identity>
  meetings: {
    create(api: ApiClient, input: MeetingInput, settings: ProviderSettings): Promise<MeetingRef>
    /** Updates in place: the join link stays the same. */
    update(api: ApiClient, ref: MeetingRef, input: MeetingInput, settings: ProviderSettings): Promise<MeetingRef>
    /** Idempotent: a meeting that is already gone counts as deleted. */
    delete(api: ApiClient, ref: MeetingRef): Promise<void>
    /**
     * Finds the meeting an earlier create with this input's requestId made, when that create's answer was
     * lost (timeout, reset): so a retry reuses it instead of making a duplicate. Optional: providers whose
     * create is idempotent on requestId (Sandbox) need none. Google's conference requestId is, but its calendar
     * event is not: Google has one.
     */
    find?(api: ApiClient, input: MeetingInput): Promise<MeetingRef | null>
    /** Re-reads a pending meeting (Google's conference creation). Optional. */
    refresh?(api: ApiClient, ref: MeetingRef): Promise<MeetingRef>
  }
}

/** One provider as registry.ts lists it: its id, where its cloud lives (OAuth providers), and its adapter. */
export interface ProviderModule<Id extends string = string> {
  id: Id
  cloud?: ProviderCloud
  /** The adapter; `defaults` are the operator's provider-wide settings (Jitsi's default server). */
  create(defaults: { jitsiUrl: string }): ProviderAdapter & { id: Id }
}
