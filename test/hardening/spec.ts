/**
 * What the hardening tests know about the routes that the route table cannot say: who may use a route, a valid
 * form for it (field by field, with the kind of value each field takes) and real ids for its :params.
 * Routes missing here still get tested: fields come from the rendered form pages and the actor from the URL.
 */
import type { LightMyRequestResponse } from 'fastify'
import { SANDBOX_CLIENT_ID } from '../../src/sandbox/endpoints.js'
import { FOLLOW_UP, MAIL_FORM, type World } from './world.js'

export type Actor = 'admin' | 'alice' | 'anonymous' | 'setup'

/** What a field takes; decides which malformed variants must be refused. */
export type Kind =
  | 'text' // one line of free text
  | 'multiline' // free text with line breaks
  | 'password' // taken as typed
  | 'email'
  | 'emails' // a list of addresses, one per line
  | 'choice' // one of a fixed set
  | 'number'
  | 'datetime'
  | 'host'
  | 'url'
  | 'checkbox' // "true" or nothing: anything else is "not ticked"
  | 'list' // may repeat
  | 'free' // read leniently or not at all: anything goes, as long as nothing breaks
  | 'exact' // any change is refused

export type Category = 'empty' | 'long' | 'repeated' | 'control' | 'newline' | 'utf8' | 'html' | 'sql' | 'number' | 'date' | 'unicode'

const ALL: Category[] = ['long', 'repeated', 'control', 'newline', 'utf8', 'html', 'sql', 'number', 'date', 'unicode']

/** The variant categories a field of each kind must refuse (empty ones only when the field is required). */
export const STRICT: Record<Kind, Category[]> = {
  text: ['long', 'repeated', 'control', 'newline'],
  multiline: ['long', 'repeated', 'control'],
  password: ['long', 'repeated', 'control', 'newline'],
  email: ALL,
  emails: ALL,
  choice: ALL,
  number: ALL,
  datetime: ALL,
  host: ['long', 'repeated', 'control', 'newline', 'utf8', 'html', 'sql', 'date', 'unicode'],
  url: ['long', 'repeated', 'control', 'newline'],
  checkbox: ['repeated'],
  list: ['long', 'control'],
  free: [],
  exact: ALL,
}

export interface Field {
  kind: Kind
  /** A valid value (several for a list). */
  value: string | string[]
  required?: boolean
  /** Categories refused besides the kind's. */
  strict?: Category[]
  /** Categories the kind refuses that this field may accept. */
  lenient?: Category[]
}

/** A whole-form variant: these fields replaced; `reject` says whether it must be refused. */
export interface Extra {
  name: string
  form: Record<string, string | string[]>
  reject: boolean
}

export interface PostSpec {
  as: Actor
  fields: Record<string, Field> | ((params: Record<string, string>) => Record<string, Field>)
  /** Values for the route's :params (one request set per entry). */
  params?: Record<string, string>[]
  /** Besides a 4xx, what counts as a refusal (the Sandbox's consent redirects back with error=). */
  refused?: (res: LightMyRequestResponse) => boolean
  /** Valid values used in turn (sign-in limits failures per account). */
  rotate?: Record<string, string[]>
  /** Combinations a single-field variant cannot express. */
  extra?: Extra[]
}

export interface GetSpec {
  as: Actor
  params?: Record<string, string>[]
  /** Query parameters with valid values; each is then varied. */
  query?: Record<string, Field>
}

export const SANDBOX_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

export function sandboxAuthorize(baseUrl: string): Record<string, Field> {
  return {
    client_id: { kind: 'exact', value: SANDBOX_CLIENT_ID, required: true },
    redirect_uri: { kind: 'exact', value: `${baseUrl}/oauth/sandbox/callback`, required: true },
    response_type: { kind: 'exact', value: 'code', required: true },
    code_challenge: { kind: 'exact', value: SANDBOX_CHALLENGE, required: true },
    code_challenge_method: { kind: 'exact', value: 'S256', required: true },
    state: { kind: 'text', value: 'state-123', lenient: ['long'], strict: [] },
    scope: { kind: 'choice', value: 'profile meetings', required: true },
  }
}

const FOLLOW_UP_FIELDS = (w: World): Record<string, Field> => ({
  title: { kind: 'text', value: FOLLOW_UP.title, required: true },
  typeId: { kind: 'choice', value: String(w.ids.type) },
  start: { kind: 'datetime', value: FOLLOW_UP.start, required: true },
  end: { kind: 'datetime', value: FOLLOW_UP.end, required: true },
  // Only read when End is empty (see `extra`): here only its own limits (5 characters, no control characters).
  duration: { kind: 'text', value: '' },
  timeZone: { kind: 'choice', value: FOLLOW_UP.timeZone, required: true },
  location: { kind: 'text', value: FOLLOW_UP.location },
  description: { kind: 'multiline', value: FOLLOW_UP.description },
  attendees: { kind: 'emails', value: FOLLOW_UP.attendees },
  video: { kind: 'checkbox', value: 'true' },
  sendInvitations: { kind: 'checkbox', value: 'true' },
  action: { kind: 'choice', value: 'save' },
  inviteChosen: { kind: 'free', value: '1' },
  invite: { kind: 'list', value: ['ext@example.org', 'colleague@example.com'] },
})

const FOLLOW_UP_EXTRA: Extra[] = [
  ...['-1', '0', '1441', '99999', '1e3', '1.5', '-0', '0x10', '3 0'].map((duration): Extra => ({ name: `duration ${JSON.stringify(duration)} without end`, form: { end: '', duration }, reject: true })),
  { name: 'duration 30 without end', form: { end: '', duration: '30' }, reject: false },
  { name: 'end before start', form: { end: '2030-03-04T09:00' }, reject: true },
  { name: 'end equal to start', form: { end: FOLLOW_UP.start }, reject: true },
  { name: 'neither end nor duration', form: { end: '', duration: '' }, reject: true },
  { name: '51 attendees', form: { attendees: Array.from({ length: 51 }, (_, i) => `a${i}@example.org`).join('\n') }, reject: true },
  { name: 'attendee list with header injection', form: { attendees: 'a@example.org\r\nBcc: evil@example.org' }, reject: true },
  { name: 'type of another kind (id 0)', form: { typeId: '0' }, reject: true },
  { name: 'invite someone not attending', form: { invite: ['evil@example.org'] }, reject: false },
  { name: 'time zone with path', form: { timeZone: '../../etc/passwd' }, reject: true },
  { name: 'time zone Etc/GMT+14', form: { timeZone: 'Etc/GMT+14' }, reject: false },
]

const MAIL_FIELDS: Record<string, Field> = {
  host: { kind: 'host', value: 'smtp.example.com', required: true },
  port: { kind: 'number', value: '587', required: true },
  security: { kind: 'choice', value: 'starttls' },
  username: { kind: 'text', value: MAIL_FORM.username },
  password: { kind: 'password', value: 'smtp password' },
  clearPassword: { kind: 'checkbox', value: '' },
  fromName: { kind: 'text', value: 'Alice', required: true },
  fromAddress: { kind: 'email', value: 'alice@example.com', required: true },
  action: { kind: 'choice', value: 'save', lenient: ALL },
}

const MAIL_EXTRA: Extra[] = [
  { name: 'port 0', form: { port: '0' }, reject: true },
  { name: 'port 65536', form: { port: '65536' }, reject: true },
  { name: 'security none on a public host', form: { security: 'none' }, reject: true },
  { name: 'host with a port', form: { host: 'smtp.example.com:25' }, reject: true },
  { name: 'host with a path', form: { host: 'smtp.example.com/x' }, reject: true },
  { name: 'host IPv6 loopback', form: { host: '[::1]', security: 'none' }, reject: false },
]

/** The POST routes, by route URL. */
export function postSpecs(w: World): Record<string, PostSpec> {
  const ids = w.ids
  return {
    '/setup': {
      as: 'setup',
      fields: {
        name: { kind: 'text', value: 'Ada Admin', required: true },
        email: { kind: 'email', value: 'ada@example.com', required: true },
        password: { kind: 'password', value: 'correct horse battery', required: true },
        language: { kind: 'choice', value: 'en' },
        timeZone: { kind: 'choice', value: 'Europe/Amsterdam', required: true },
      },
    },
    '/sign-in': {
      as: 'anonymous',
      rotate: { email: w.signInEmails },
      fields: {
        email: { kind: 'exact', value: 'alice@example.com', required: true },
        password: { kind: 'exact', value: 'a long enough password', required: true },
        next: { kind: 'free', value: '/follow-ups' },
      },
      extra: ['//evil.example', '/\\evil.example', 'https://evil.example/', '/%2F%2Fevil.example', 'javascript:alert(1)'].map((next) => ({ name: `next=${next}`, form: { next }, reject: false })),
    },
    '/sign-out': { as: 'alice', fields: {} },
    '/preferences/general': {
      as: 'alice',
      fields: {
        name: { kind: 'text', value: 'Alice', required: true },
        language: { kind: 'choice', value: 'en', required: true },
        timeZone: { kind: 'choice', value: 'Europe/Amsterdam', required: true },
      },
    },
    '/settings/users': {
      as: 'admin',
      fields: {
        name: { kind: 'text', value: 'Carol', required: true },
        email: { kind: 'email', value: 'carol@example.com', required: true },
        password: { kind: 'password', value: 'a long enough password', required: true },
        role: { kind: 'choice', value: 'user', required: true },
        language: { kind: 'choice', value: 'en', required: true },
      },
      extra: [
        { name: 'email taken (other case)', form: { email: 'ALICE@example.com' }, reject: true },
        { name: 'password 9 characters', form: { password: '123456789' }, reject: true },
        { name: 'password 257 characters', form: { password: 'p'.repeat(257) }, reject: true },
      ],
    },
    '/settings/users/:id/role': { as: 'admin', params: [{ id: String(ids.alice) }], fields: { role: { kind: 'choice', value: 'admin', required: true } } },
    '/settings/users/:id/password': {
      as: 'admin',
      params: [{ id: String(ids.alice) }],
      fields: { password: { kind: 'password', value: 'another long password', required: true } },
    },
    '/settings/users/:id/active': { as: 'admin', params: [{ id: String(ids.alice) }], fields: { active: { kind: 'choice', value: 'false', required: true } } },
    '/settings/video-meetings/configure/:provider': { as: 'admin', params: [{ provider: 'sandbox' }, { provider: 'jitsi' }], fields: {} },
    '/settings/video-meetings/configure/settings': {
      as: 'admin',
      fields: {
        serverUrl: { kind: 'url', value: 'https://meet.example.org', required: true },
        // Letters, digits, hyphens and the two placeholders only: every variant is refused.
        roomPattern: { kind: 'choice', value: '{title}-{random}', required: true },
      },
      extra: [
        { name: 'pattern without {random}', form: { roomPattern: '{title}' }, reject: true },
        { name: 'javascript: server', form: { serverUrl: 'javascript:alert(1)' }, reject: true },
        { name: 'file: server', form: { serverUrl: 'file:///etc/passwd' }, reject: true },
        { name: 'server with credentials', form: { serverUrl: 'https://user:pw@meet.example.org' }, reject: true },
      ],
    },
    '/settings/video-meetings/disconnect': { as: 'admin', fields: {} },
    '/settings/video-meetings/clients/:provider': {
      as: 'admin',
      params: [{ provider: 'zoom' }, { provider: 'teams' }],
      fields: (params) => ({
        clientId: { kind: 'text', value: 'client-id-123', required: true },
        clientSecret: { kind: 'password', value: 'client-secret-456', required: true },
        // Only Teams reads a tenant: common, organizations, a GUID or a domain.
        tenant: params.provider === 'teams' ? { kind: 'host', value: 'organizations', required: true, lenient: ['number'] } : { kind: 'free', value: 'organizations' },
      }),
    },
    '/preferences/video-meetings/connect': { as: 'alice', fields: { returnTo: { kind: 'free', value: '/follow-ups' } } },
    '/preferences/video-meetings/disconnect': { as: 'alice', fields: {} },
    '/preferences/video-meetings/replace': { as: 'alice', fields: { decision: { kind: 'free', value: 'keep' } } },
    '/follow-ups': { as: 'alice', fields: FOLLOW_UP_FIELDS(w), extra: FOLLOW_UP_EXTRA },
    '/follow-ups/:id': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }], fields: FOLLOW_UP_FIELDS(w), extra: FOLLOW_UP_EXTRA },
    '/follow-ups/:id/deliveries/:outboxId/retry': { as: 'alice', params: [{ id: String(ids.aliceFollowUp), outboxId: String(ids.aliceOutbox) }], fields: {} },
    '/follow-ups/:id/retry': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }], fields: {} },
    '/follow-ups/:id/delete': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }], fields: {} },
    '/settings/video-meetings/users/:id/remove': { as: 'admin', params: [{ id: String(ids.aliceConnection) }], fields: {} },
    '/settings/follow-up-types': {
      as: 'admin',
      fields: { name: { kind: 'text', value: 'Workshop', required: true }, videoDefault: { kind: 'checkbox', value: 'true' } },
      extra: [{ name: 'duplicate name (other case)', form: { name: 'hardening CHECK-IN' }, reject: true }],
    },
    '/settings/follow-up-types/:id': {
      as: 'admin',
      params: [{ id: String(ids.type) }],
      fields: { action: { kind: 'choice', value: 'save' }, name: { kind: 'text', value: 'Renamed type', required: true }, videoDefault: { kind: 'checkbox', value: '' } },
    },
    '/preferences/email': { as: 'alice', fields: MAIL_FIELDS, extra: MAIL_EXTRA },
    '/preferences/email/remove': { as: 'alice', fields: {} },
    '/settings/email': { as: 'admin', fields: { ...MAIL_FIELDS, fromName: { kind: 'text', value: 'Office', required: true }, fromAddress: { kind: 'email', value: 'office@example.com', required: true } }, extra: MAIL_EXTRA },
    '/settings/email/remove': { as: 'admin', fields: {} },
    '/sandbox/oauth/authorize': {
      as: 'anonymous',
      fields: {
        ...sandboxAuthorize(w.app.config.baseUrl),
        decision: { kind: 'exact', value: 'allow', required: true },
        email: { kind: 'email', value: 'alice@sandbox.example', required: true },
        name: { kind: 'text', value: 'Alice Sandbox', required: true },
        grant: { kind: 'exact', value: ['profile', 'meetings'], required: true, lenient: ['repeated'] },
      },
      refused: (res) => res.statusCode === 303 && /[?&]error=/.test(String(res.headers.location)),
    },
  }
}

/** The GET routes that take :params or a query, by route URL. */
export function getSpecs(w: World): Record<string, GetSpec> {
  const ids = w.ids
  return {
    '/sign-in': { as: 'anonymous', query: { next: { kind: 'free', value: '/follow-ups' } } },
    '/follow-ups': { as: 'alice', query: { view: { kind: 'free', value: 'past' }, page: { kind: 'free', value: '1' } } },
    '/settings/audit-log': { as: 'admin', query: { page: { kind: 'free', value: '1' } } },
    '/settings/users/:id': { as: 'admin', params: [{ id: String(ids.alice) }] },
    '/settings/video-meetings/clients/:provider': { as: 'admin', params: [{ provider: 'zoom' }, { provider: 'teams' }] },
    '/oauth/:provider/callback': {
      as: 'alice',
      params: [{ provider: 'sandbox' }, { provider: 'zoom' }],
      query: {
        code: { kind: 'free', value: 'some-code' },
        state: { kind: 'free', value: 'some-state' },
        iss: { kind: 'free', value: `${w.app.config.baseUrl}/sandbox` },
        error: { kind: 'free', value: '' },
        error_description: { kind: 'free', value: '' },
      },
    },
    '/follow-ups/:id': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }] },
    '/follow-ups/:id/edit': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }] },
    '/follow-ups/:id/invite.ics': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }] },
    '/follow-ups/:id/event.ics': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }] },
    '/follow-ups/:id/cancel.ics': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }] },
    '/follow-ups/:id/delete': { as: 'alice', params: [{ id: String(ids.aliceFollowUp) }] },
    '/sandbox/oauth/authorize': { as: 'anonymous', query: sandboxAuthorize(w.app.config.baseUrl) },
    '/sandbox/meet/:id': { as: 'anonymous', params: [{ id: 'no-such-meeting' }] },
    '/sandbox/api/meetings/:id': { as: 'anonymous', params: [{ id: 'no-such-meeting' }] },
    '/assets/:hash/*': { as: 'anonymous', params: [{ hash: 'x', '*': 'css/app.css' }] },
  }
}

/** Who uses a route the tables above do not know. */
export function defaultActor(url: string): Actor {
  if (url === '/settings' || url.startsWith('/settings/')) return 'admin'
  if (url.startsWith('/sandbox/') || url === '/sign-in' || url === '/healthz' || url === '/readyz' || url.startsWith('/assets/') || url === '/favicon.ico') return 'anonymous'
  if (url === '/setup') return 'setup'
  return 'alice'
}

/** Real ids for a route's :params, by the route's prefix. */
export function defaultParams(url: string, w: World): Record<string, string> {
  const ids = w.ids
  const out: Record<string, string> = {}
  for (const [, name] of url.matchAll(/:(\w+)/g)) {
    if (name === 'outboxId') out[name] = String(ids.aliceOutbox)
    else if (name === 'provider') out[name] = 'sandbox'
    else if (name === 'hash') out[name] = 'x'
    else if (url.startsWith('/follow-ups/')) out[name!] = String(ids.aliceFollowUp)
    else if (url.startsWith('/settings/users/')) out[name!] = String(ids.alice)
    else if (url.startsWith('/settings/follow-up-types/')) out[name!] = String(ids.type)
    else if (url.startsWith('/settings/video-meetings/users/')) out[name!] = String(ids.aliceConnection)
    else out[name!] = '1'
  }
  if (url.endsWith('*')) out['*'] = 'css/app.css'
  return out
}

export function fill(url: string, params: Record<string, string>): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? '1')).replace(/\*$/, params['*'] ?? 'x')
}

/** The sandbox's server-to-server API: JSON with its own authentication, outside the HTML expectations. */
export function isSandboxApi(url: string): boolean {
  return url === '/sandbox/oauth/token' || url === '/sandbox/oauth/revoke' || url.startsWith('/sandbox/api/')
}
