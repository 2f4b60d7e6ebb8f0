/**
 * Webex fake: integration OAuth (/v1/authorize, /v1/access_token), /v1/people/me, /v1/meetings.
 *
 * What was checked, and where (search tools over stored public copies, see the report):
 *   - Authorization code flow; client_id and client_secret in the form body of POST /v1/access_token for
 *     both authorization_code and refresh_token — Webex "Integrations and Authorization" / Verint
 *     "Create/Refresh Webex security tokens" pages, wxsd-sales/webex-meetings get-access-token.js.
 *   - PKCE: "Authorization Code Flow with Proof Key of Code Exchange is the recommended flow"
 *     (developer.webex.com "Login with Webex").
 *   - Token response {access_token, expires_in, refresh_token, refresh_token_expires_in, token_type:
 *     "Bearer"} (WebexSamples/webex-contact-center-api-samples token-app README). Access tokens last 14
 *     days for integrations (expires_in 1209599; third-party guides say 6–12 h: read expires_in), refresh
 *     tokens 90 days and "when being regularly used will be refreshed to last forever" (PROVIDERS.md).
 *   - Refresh returns the SAME refresh token ("tokens refreshed more than once every 24 hours will often
 *     leave the value … unchanged", webex/integration-refresh README); its lifetime restarts.
 *   - API errors {message, errors:[{description}], trackingId}; 401 text "The request requires a valid
 *     access token set in the Authorization request header." (many SDK tests and mocks, e.g.
 *     webex-teams .NET client tests); 429 with Retry-After; 404/410/423 meanings (webex-openapi-specs).
 *   - Meeting object: id, meetingNumber, title, password, phoneAndVideoSystemPassword, meetingType,
 *     state, timezone, start, end, hostUserId, hostDisplayName, hostEmail, hostKey, siteUrl, webLink,
 *     sipAddress, dialInIpAddress, enabledJoinBeforeHost, telephony{accessCode, callInNumbers[{label,
 *     callInNumber, tollType}], links[{rel:"globalCallinNumbers", href, method}]} — webex-openapi-specs
 *     examples (mirrored docs), SparkDotNet MeetingTelephony model. Create answers 200 (not 201).
 *   - "Parameter 'start' or 'end' is before current time." for a meeting in the past (an integration's
 *     error handling found by search).
 *   - integrationTags on create/update ("external keys created by an integration application in its own
 *     domain"), and List Meetings (GET /v1/meetings): meetingType defaults to meetingSeries (a meeting without
 *     recurrence is a series of one), series overlapping from..to are listed, `integrationTag` filters on a
 *     tag, `max` up to 100, {items: [...]}, further pages only through the RFC 5988 Link header
 *     rel="next" — developer.webex.com List Meetings, WebexPythonSDK meetings.list/create, n8n Webex node.
 * Assumptions:
 *   - List Meetings: without from/to the window is now .. now + 7 days; from after to answers 400; max above
 *     100 is cut to 100; items are sorted by start; the next-page link carries an opaque `cursor`; other
 *     meetingType values list nothing here (the fake keeps only series); agenda above 1300 characters is a
 *     400 on create and update.
 *   - The token response carries no `scope` field (none of the examples found has one); the app must not
 *     rely on it. A missing scope shows up as 403 on the API.
 *   - Token-endpoint error shape: the Webex envelope wrapping the identity broker's error,
 *     {"message":"POST failed: HTTP/1.1 400 Bad Request (… error = 'invalid_grant', description = '…')",
 *     "errors":[{"description":…}],"trackingId":…} (from memory, not confirmed).
 *   - A secret sent only by HTTP Basic is refused (the brief: body).
 *   - /v1/people/me needs no particular scope here; the 403 text for a missing scope.
 *   - Meetings may start up to 5 minutes in the past.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { randomUUID } from 'node:crypto'
import {
  type FakeContext,
  type FakeOptions,
  type Grant,
  type ProviderFake,
  apiFaults,
  applyDropScope,
  bearerOf,
  canary,
  checkAuthorize,
  clientCredentials,
  createFake,
  digits,
  errorPage,
  finishFake,
  forcedInvalidToken,
  formOf,
  hex,
  isoNoMillis,
  jsonObjectOf,
  maybeReset,
  noteAuthorize,
  queryOf,
  redirectWith,
  resolveOptions,
  tokenFaults,
} from './common.js'

const DEFAULTS: FakeOptions = {
  clientId: `C${hex(32)}`,
  clientSecret: '',
  accessTokenTtlSeconds: 1209599,
  refreshTokenTtlSeconds: 7775999,
  codeTtlSeconds: 600,
  redirectUris: null,
  grantedScopes: null,
  tenant: '',
  user: {},
  knobs: {},
}

const SITE = 'fake-example.webex.com'

function webexUser(over: Record<string, unknown>): Record<string, unknown> {
  const id = Buffer.from(`ciscospark://us/PEOPLE/${randomUUID()}`).toString('base64').replace(/=+$/, '')
  return {
    id,
    emails: ['wendy.webex@example.com'],
    phoneNumbers: [],
    displayName: 'Wendy Webex',
    nickName: 'Wendy',
    firstName: 'Wendy',
    lastName: 'Webex',
    avatar: 'https://avatar-prod-us-east-2.webexcontent.com/fake~1600',
    orgId: Buffer.from(`ciscospark://us/ORGANIZATION/${randomUUID()}`).toString('base64').replace(/=+$/, ''),
    created: '2023-01-10T09:00:00.000Z',
    lastModified: '2025-01-10T09:00:00.000Z',
    lastActivity: '2025-01-10T09:00:00.000Z',
    status: 'active',
    type: 'person',
    ...over,
  }
}

export async function startWebexFake(options?: Partial<FakeOptions>): Promise<ProviderFake> {
  const opts = resolveOptions({ ...DEFAULTS, clientSecret: canary('webex', 'secret') }, options)
  const { app, ctx } = createFake('webex', { ...opts, user: webexUser(opts.user) })

  const trackingId = () => `ROUTERGW_${randomUUID()}`
  const wxError = (reply: FastifyReply, status: number, description: string, message = description) =>
    reply.code(status).send({ message, errors: [{ description }], trackingId: trackingId() })
  const tokenError = (reply: FastifyReply, status: number, error: string, description: string) => {
    const tid = trackingId()
    const message = `POST failed: HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Bad Request'} (url = https://idbroker.webex.com/idb/oauth2/v1/access_token, request/response TrackingId = ${tid}, error = '${error}', description = '${description}')`
    return reply.code(status).send({ message, errors: [{ description: message }], trackingId: tid })
  }

  // ---- authorize ------------------------------------------------------------------------------------
  app.get('/v1/authorize', async (req, reply) => {
    const q = queryOf(req)
    if (maybeReset(ctx, 'authorize', req, reply)) return reply
    const check = checkAuthorize(ctx, q, { scopeRequired: true })
    if (check.kind === 'page') {
      noteAuthorize(ctx, q, 'page', null)
      return errorPage(reply, check.status, 'Webex', check.message)
    }
    const state = ctx.knobs.omitState ? undefined : q.state
    if (check.kind === 'redirect') {
      noteAuthorize(ctx, q, check.error, null)
      return redirectWith(reply, q.redirect_uri ?? '', { error: check.error, error_description: check.description, state })
    }
    if (ctx.knobs.deny) {
      noteAuthorize(ctx, q, 'access_denied', null)
      return redirectWith(reply, check.redirectUri, { error: 'access_denied', error_description: 'The user denied the request.', state })
    }
    const scope = applyDropScope(ctx, [...new Set(check.requestedScope)])
    const code = ctx.store.issueCode(
      { clientId: q.client_id ?? '', redirectUri: check.redirectUri, challenge: check.challenge, scope, user: ctx.user, extra: {} },
      ctx.opts.codeTtlSeconds,
    )
    noteAuthorize(ctx, q, 'code', scope.join(' '))
    return redirectWith(reply, check.redirectUri, { code, state })
  })

  // ---- token ----------------------------------------------------------------------------------------
  function tokenResponse(grant: Grant, refreshToken: string) {
    const at = ctx.store.mintAccess(grant, ctx.opts.accessTokenTtlSeconds)
    return {
      access_token: at.token,
      expires_in: ctx.opts.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      refresh_token_expires_in: ctx.opts.refreshTokenTtlSeconds ?? 7775999,
      token_type: 'Bearer',
    }
  }

  app.post('/v1/access_token', async (req, reply) => {
    const f = await tokenFaults(ctx, req, reply, (s) => ({ message: 'Service Unavailable', errors: [{ description: `HTTP ${s}` }], trackingId: trackingId() }))
    if (f.handled) return reply
    const form = formOf(req)
    const cred = clientCredentials(req, form)
    // Webex: credentials in the form body.
    if (!cred.body.id || !cred.body.secret) return tokenError(reply, 400, 'invalid_request', 'client_id and client_secret are required in the request body')
    if (cred.body.id !== ctx.opts.clientId || cred.body.secret !== ctx.opts.clientSecret || f.forcedError === 'invalid_client') {
      return tokenError(reply, 401, 'invalid_client', 'The client authentication failed.')
    }
    if (f.forcedError) return tokenError(reply, 400, 'invalid_grant', 'The refresh token provided is expired, revoked, malformed, or invalid.')

    if (form.grant_type === 'authorization_code') {
      const r = ctx.store.redeemCode(form.code, { clientId: cred.body.id, redirectUri: form.redirect_uri, verifier: form.code_verifier })
      if (!r.ok) {
        if (r.reason === 'redirect_mismatch') return tokenError(reply, 400, 'invalid_request', 'The redirect_uri does not match the one used in the authorization request.')
        if (r.reason === 'pkce_missing' || r.reason === 'pkce_mismatch') return tokenError(reply, 400, 'invalid_grant', 'PKCE verification failed.')
        if (r.reason === 'reused') return tokenError(reply, 400, 'invalid_grant', 'Authorization code has been used.')
        return tokenError(reply, 400, 'invalid_grant', 'The authorization code provided is invalid or expired.')
      }
      const rt = ctx.store.mintRefresh(r.grant, ctx.opts.refreshTokenTtlSeconds)
      return reply.send(tokenResponse(r.grant, rt.token))
    }
    if (form.grant_type === 'refresh_token') {
      const r = ctx.store.lookupRefresh(form.refresh_token, cred.body.id)
      if (!r.ok) return tokenError(reply, 400, 'invalid_grant', 'The refresh token provided is expired, revoked, malformed, or invalid.')
      // Same refresh token back; regular use keeps it alive.
      if (ctx.opts.refreshTokenTtlSeconds !== null) r.rec.expiresAt = ctx.clock.now() + ctx.opts.refreshTokenTtlSeconds * 1000
      return reply.send(tokenResponse(r.grant, r.rec.token))
    }
    return tokenError(reply, 400, 'unsupported_grant_type', `Unsupported grant_type: ${form.grant_type ?? ''}`)
  })

  // ---- API guard ------------------------------------------------------------------------------------
  async function guard(req: FastifyRequest, reply: FastifyReply, need: string | null, meetingApi: boolean): Promise<Grant | null> {
    if (meetingApi) {
      const handled = await apiFaults(ctx, req, reply, {
        status: (s) => {
          const d = s === 429 ? 'Too Many Requests' : s === 503 ? 'Service Unavailable' : 'Internal Server Error'
          return { message: d, errors: [{ description: d }], trackingId: trackingId() }
        },
      })
      if (handled) return null
    }
    const r = meetingApi && forcedInvalidToken(ctx) ? ({ ok: false } as const) : ctx.store.checkAccess(bearerOf(req))
    if (!r.ok) {
      wxError(reply, 401, 'The request requires a valid access token set in the Authorization request header.')
      return null
    }
    if (need && !r.grant.scope.includes(need) && !r.grant.scope.includes('spark:all')) {
      wxError(
        reply,
        403,
        'The server understood the request, but refused to fulfill it because the access token is missing required scopes or the user is missing required roles or licenses.',
      )
      return null
    }
    return r.grant
  }

  // ---- identity -------------------------------------------------------------------------------------
  app.get('/v1/people/me', async (req, reply) => {
    if (maybeReset(ctx, 'userinfo', req, reply)) return reply
    const grant = await guard(req, reply, null, false)
    if (!grant) return reply
    if (ctx.knobs.userinfoFail) return wxError(reply, 500, 'Internal Server Error')
    return reply.send(grant.user)
  })

  // ---- meetings -------------------------------------------------------------------------------------
  const READ = 'meeting:schedules_read'
  const WRITE = 'meeting:schedules_write'
  const notFound = (reply: FastifyReply) => wxError(reply, 404, 'The requested resource could not be found.')

  /** A validation message for a full meeting body, or null. */
  function validate(body: Record<string, any>, partial: boolean): string | null {
    for (const key of ['title', 'start', 'end'] as const) {
      if (!partial && (body[key] === undefined || body[key] === '')) return `Parameter '${key}' is required.`
    }
    if (body.title !== undefined && (typeof body.title !== 'string' || body.title.length > 128)) return "Parameter 'title' is invalid."
    if (body.agenda !== undefined && (typeof body.agenda !== 'string' || body.agenda.length > 1300)) return "Parameter 'agenda' is invalid."
    if (body.integrationTags !== undefined && (!Array.isArray(body.integrationTags) || body.integrationTags.some((tag: unknown) => typeof tag !== 'string'))) {
      return "Parameter 'integrationTags' is invalid."
    }
    for (const key of ['start', 'end'] as const) {
      if (body[key] !== undefined && Number.isNaN(Date.parse(String(body[key])))) return `Parameter '${key}' is invalid.`
    }
    return null
  }

  function checkTimes(start: number, end: number): string | null {
    const now = ctx.clock.now()
    if (start < now - 5 * 60_000 || end < now) return "Parameter 'start' or 'end' is before current time."
    if (end <= start) return "Parameter 'end' must be after 'start'."
    return null
  }

  app.post('/v1/meetings', async (req, reply) => {
    const grant = await guard(req, reply, WRITE, true)
    if (!grant) return reply
    const body = jsonObjectOf(req)
    if (!body) return wxError(reply, 400, 'The request could not be understood by the server due to malformed syntax.')
    const bad = validate(body, false)
    if (bad) return wxError(reply, 400, bad)
    const start = Date.parse(String(body.start))
    const end = Date.parse(String(body.end))
    const badTime = checkTimes(start, end)
    if (badTime) return wxError(reply, 400, badTime)
    const m = newWebexMeeting(ctx, grant, body, start, end)
    ctx.meetings.set(m.id, m)
    return reply.send(m)
  })

  // List Meetings: series overlapping [from, to), optionally by integrationTag; `max` a page, Link for more.
  app.get('/v1/meetings', async (req, reply) => {
    const grant = await guard(req, reply, READ, true)
    if (!grant) return reply
    const q = queryOf(req)
    const now = ctx.clock.now()
    const from = q.from !== undefined ? Date.parse(q.from) : now
    const to = q.to !== undefined ? Date.parse(q.to) : from + 7 * 86_400_000
    if (Number.isNaN(from)) return wxError(reply, 400, "Parameter 'from' is invalid.")
    if (Number.isNaN(to)) return wxError(reply, 400, "Parameter 'to' is invalid.")
    if (from > to) return wxError(reply, 400, "Parameter 'from' cannot be after 'to'.")
    const meetingType = q.meetingType ?? 'meetingSeries'
    if (!['meetingSeries', 'scheduledMeeting', 'meeting'].includes(meetingType)) return wxError(reply, 400, "Parameter 'meetingType' is invalid.")
    const max = Math.min(Math.max(Number(q.max ?? 10) || 10, 1), 100)
    const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString('utf8')) : 0
    if (!Number.isInteger(offset) || offset < 0) return wxError(reply, 400, "Parameter 'cursor' is invalid.")
    const all = [...ctx.meetings.values()]
      .filter((m) => meetingType === 'meetingSeries' && m.hostUserId === grant.user.id)
      .filter((m) => Date.parse(m.start) < to && Date.parse(m.end) > from)
      .filter((m) => q.integrationTag === undefined || (Array.isArray(m.integrationTags) && m.integrationTags.includes(q.integrationTag)))
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
    if (offset + max < all.length) {
      const next = new URL(`${ctx.url}/v1/meetings`)
      for (const [k, v] of Object.entries(q)) if (k !== 'cursor') next.searchParams.set(k, v)
      next.searchParams.set('cursor', Buffer.from(String(offset + max)).toString('base64url'))
      reply.header('link', `<${next.href}>; rel="next"`)
    }
    return reply.send({ items: all.slice(offset, offset + max) })
  })

  app.get('/v1/meetings/:id', async (req, reply) => {
    const grant = await guard(req, reply, READ, true)
    if (!grant) return reply
    const m = ctx.meetings.get((req.params as { id: string }).id)
    return m ? reply.send(m) : notFound(reply)
  })

  async function update(req: FastifyRequest, reply: FastifyReply, partial: boolean) {
    const grant = await guard(req, reply, WRITE, true)
    if (!grant) return reply
    const m = ctx.meetings.get((req.params as { id: string }).id)
    if (!m) return notFound(reply)
    const body = jsonObjectOf(req)
    if (!body) return wxError(reply, 400, 'The request could not be understood by the server due to malformed syntax.')
    // PUT replaces the whole meeting (title, start, end required); PATCH changes what is sent.
    const bad = validate(body, partial)
    if (bad) return wxError(reply, 400, bad)
    const start = body.start !== undefined ? Date.parse(String(body.start)) : Date.parse(m.start)
    const end = body.end !== undefined ? Date.parse(String(body.end)) : Date.parse(m.end)
    if (body.start !== undefined || body.end !== undefined) {
      const badTime = checkTimes(start, end)
      if (badTime) return wxError(reply, 400, badTime)
    }
    m.start = isoNoMillis(start)
    m.end = isoNoMillis(end)
    for (const key of ['title', 'agenda', 'password', 'timezone', 'enabledJoinBeforeHost', 'joinBeforeHostMinutes', 'enabledAutoRecordMeeting', 'publicMeeting', 'integrationTags'] as const) {
      if (body[key] !== undefined) m[key] = body[key]
    }
    return reply.send(m)
  }
  app.put('/v1/meetings/:id', async (req, reply) => update(req, reply, false))
  app.patch('/v1/meetings/:id', async (req, reply) => update(req, reply, true))

  app.delete('/v1/meetings/:id', async (req, reply) => {
    const grant = await guard(req, reply, WRITE, true)
    if (!grant) return reply
    if (!ctx.meetings.delete((req.params as { id: string }).id)) return notFound(reply)
    return reply.code(204).send()
  })

  return finishFake(app, ctx, (url) => ({
    WEBEX_AUTHORIZE_URL: `${url}/v1/authorize`,
    WEBEX_TOKEN_URL: `${url}/v1/access_token`,
    WEBEX_REVOKE_URL: '',
    WEBEX_USERINFO_URL: `${url}/v1/people/me`,
    WEBEX_API_URL: `${url}/v1`,
    WEBEX_CLIENT_ID: ctx.opts.clientId,
    WEBEX_CLIENT_SECRET: ctx.opts.clientSecret,
  }))
}

function newWebexMeeting(ctx: FakeContext, grant: Grant, body: Record<string, any>, start: number, end: number): Record<string, any> {
  const id = hex(16)
  const meetingNumber = digits(11)
  const u = grant.user
  const emails = (u.emails as string[] | undefined) ?? []
  return {
    id,
    // Required in the answers of Update a Meeting and List Meetings (webex-meeting.json, MeetingObjectForListMeeting);
    // a series is its own series.
    meetingSeriesId: id,
    meetingNumber,
    title: body.title,
    agenda: body.agenda ?? '',
    password: typeof body.password === 'string' ? body.password : `${hex(3)}Aa1`,
    phoneAndVideoSystemPassword: digits(8),
    meetingType: 'meetingSeries',
    state: 'active',
    timezone: body.timezone ?? 'UTC',
    start: isoNoMillis(start),
    end: isoNoMillis(end),
    hostUserId: u.id,
    hostDisplayName: u.displayName,
    hostEmail: emails[0],
    hostKey: digits(6),
    siteUrl: SITE,
    webLink: `https://${SITE}/fake/j.php?MTID=m${hex(16)}`,
    sipAddress: `${meetingNumber}@${SITE}`,
    dialInIpAddress: '192.0.2.10',
    enabledAutoRecordMeeting: body.enabledAutoRecordMeeting ?? false,
    allowAnyUserToBeCoHost: false,
    enabledJoinBeforeHost: body.enabledJoinBeforeHost ?? false,
    enableConnectAudioBeforeHost: false,
    joinBeforeHostMinutes: body.joinBeforeHostMinutes ?? 0,
    excludePassword: false,
    publicMeeting: body.publicMeeting ?? false,
    reminderTime: 10,
    unlockedMeetingJoinSecurity: 'allowJoin',
    sessionTypeId: 3,
    scheduledType: 'meeting',
    enableAutomaticLock: false,
    automaticLockMinutes: 0,
    allowFirstUserToBeCoHost: false,
    allowAuthenticatedDevices: false,
    sendEmail: body.sendEmail ?? true,
    telephony: {
      accessCode: meetingNumber,
      callInNumbers: [
        { label: 'United States Toll', callInNumber: '+1-415-655-0002', tollType: 'toll' },
        { label: 'United States Toll Free', callInNumber: '+1-855-555-0199', tollType: 'tollFree' },
      ],
      links: [{ rel: 'globalCallinNumbers', href: `/v1/meetings/${id}/globalCallinNumbers`, method: 'GET' }],
    },
    meetingOptions: {
      enabledChat: true,
      enabledVideo: true,
      enabledNote: true,
      noteType: 'allowAll',
      enabledFileTransfer: true,
      enabledUCFRichMedia: true,
    },
    simultaneousInterpretation: { enabled: false },
    enabledBreakoutSessions: false,
    integrationTags: Array.isArray(body.integrationTags) ? [...body.integrationTags] : [],
  }
}
