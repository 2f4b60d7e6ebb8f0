/**
 * Zoom fake: OAuth (user-managed app, authorization code + PKCE), /v2/users/me, /v2 meetings.
 *
 * What was checked, and where (search tools over stored public copies, see the report):
 *   - PKCE with code_challenge_method=S256 on https://zoom.us/oauth/authorize — Zoom docs "Using Proof
 *     Key for Code Exchange (PKCE)" (developers.zoom.us/docs/integrations/PKCE) and the Zoom blog
 *     "PKCE OAuth with Postman".
 *   - Authorization codes expire in 5 minutes, single use — developers.zoom.us "OAuth for Zoom Apps for
 *     Digital Signage"; zoom-plugin token-lifecycle notes.
 *   - Token, refresh and revoke requests carry `Authorization: Basic base64(client_id:client_secret)`
 *     with a form body; revoke takes `token=` in the body and answers {"status":"success"} — Zoom's
 *     public Postman collection (mirrored on developers.qodex.ai "Revoke an access token").
 *   - Since Feb 2023 tokens are not accepted in query strings; an API call with ?access_token= answers
 *     401 {"code":124,"message":"Invalid access token, this access token is not supported as query
 *     parameter string."} — Zoom "Access token change FAQ", passport-zoom-oauth2 issue #6.
 *   - Refresh answers a NEW refresh token and the old one is dead; token_type "bearer"; expires_in ≈ 3599;
 *     `scope` lists the app's scopes (scopes are set on the app, not in the URL); `api_url` names the
 *     account's regional API host — zoom-plugin oauth/token-lifecycle + rest-api/api-architecture notes.
 *     Here api_url is the fake's own origin.
 *   - Refresh failure {"reason":"Invalid Token!","error":"invalid_grant"} HTTP 400 — raycast/extensions
 *     #10896, #12533; ha-zoom-automation #53; remote-office-hours-queue #363 (was 401 before 2022).
 *   - API errors: 401 {"code":124,"message":"Invalid access token."} (MacsiDigital/laravel-zoom #22);
 *     missing scope 400 {"code":4711,"message":"Invalid access token, does not contain scopes:[a, b]."}
 *     (JubaerHossain/zoom-laravel #15, lanec/zoom-batch-downloader #34: HTTP 400, not 401/403);
 *     bad JSON 400 {"code":300,"message":"Request Body should be a valid JSON object."} (Zoom API
 *     "Error Codes" page); meeting errors 3001 (harrisyang/api errors/MeetingAPIs.md).
 *   - Create answers 201 with id (int64), uuid, host_id, join_url, start_url, password, h323_password,
 *     pstn_password, encrypted_password, settings.global_dial_in_numbers; PATCH answers 204 without a
 *     body; DELETE 204 — Zoom changelog 2025-11-20, @itentialopensource/adapter-zoom mock data,
 *     zoom_us gem model docs, zoom-plugin common-errors.
 *   - List meetings: GET /users/{userId}/meetings with type (scheduled [default] | live | upcoming |
 *     upcoming_meetings | previous_meetings), page_size (default 30, maximum 300), next_page_token (a token
 *     is returned while more results exist, "" on the last page; it expires after 15 minutes); answer
 *     {page_size, total_records, next_page_token, meetings: [{uuid, id, host_id, topic, type, start_time,
 *     duration, timezone, agenda, created_at, join_url}]}; "The length of agenda gets truncated to 250
 *     characters when you list all meetings for a user"; granular scope meeting:read:list_meetings
 *     (classic meeting:read) — Zoom API reference as generated into zoom SDKs (zoom-python
 *     InlineResponse20058Meetings), Zoom's Postman collection (developers.qodex.ai "List meetings").
 * Assumptions (not confirmed from a Zoom page):
 *   - Reusing an already-rotated refresh token revokes the whole token family (the brief's rule; Zoom
 *     documents only that the old token stops working).
 *   - Secret in the body without a Basic header is refused with 401 {"reason":"Invalid client_id or
 *     client_secret","error":"invalid_client"} (Zoom's error table mentions "header or request
 *     parameter", so real Zoom may be laxer).
 *   - Error bodies for a bad/expired code, a PKCE mismatch and a redirect_uri mismatch (reason texts).
 *   - 404 message "Meeting does not exist: <id>." (the brief; Zoom also words it "Meeting <id> is not
 *     found or has expired.").
 *   - List meetings: a page_size above 300 is cut to 300; an unknown or expired next_page_token answers 400
 *     {code: 300}; meetings are listed by start_time; an unknown type answers 400 {code: 300}.
 *   - The `scope` URL parameter is ignored and recorded (in 2021 Zoom briefly rejected it with "Invalid
 *     scopes", tl-its-umich-edu/remote-office-hours-queue #342).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  type FakeContext,
  type FakeOptions,
  type Grant,
  type ProviderFake,
  apiFaults,
  applyDropScope,
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
  splitScopes,
  tokenFaults,
  bearerOf,
  UnparseableBody,
} from './common.js'

export const ZOOM_DEFAULT_SCOPES = 'meeting:read:meeting meeting:read:list_meetings meeting:write:meeting meeting:update:meeting meeting:delete:meeting user:read:user'

const DEFAULTS: FakeOptions = {
  clientId: `zoomclient${hex(6)}`,
  clientSecret: '',
  accessTokenTtlSeconds: 3599,
  refreshTokenTtlSeconds: 90 * 24 * 3600,
  codeTtlSeconds: 300,
  redirectUris: null,
  grantedScopes: ZOOM_DEFAULT_SCOPES,
  tenant: '',
  user: {},
  knobs: {},
}

/** Which scopes allow each operation: granular first (used in the 4711 message), then classic/admin. */
const NEED = {
  user: ['user:read:user', 'user:read:user:admin', 'user:read', 'user:read:admin'],
  create: ['meeting:write:meeting', 'meeting:write:meeting:admin', 'meeting:write', 'meeting:write:admin'],
  read: ['meeting:read:meeting', 'meeting:read:meeting:admin', 'meeting:read', 'meeting:read:admin', 'meeting:write', 'meeting:write:admin'],
  list: ['meeting:read:list_meetings', 'meeting:read:list_meetings:admin', 'meeting:read', 'meeting:read:admin'],
  update: ['meeting:update:meeting', 'meeting:update:meeting:admin', 'meeting:write', 'meeting:write:admin'],
  delete: ['meeting:delete:meeting', 'meeting:delete:meeting:admin', 'meeting:write', 'meeting:write:admin'],
}

function zoomUser(over: Record<string, unknown>): Record<string, unknown> {
  const id = hex(11)
  return {
    id,
    first_name: 'Jill',
    last_name: 'Chill',
    display_name: 'Jill Chill',
    email: 'jill.chill@example.com',
    type: 2,
    role_name: 'Owner',
    pmi: Number(digits(10)),
    use_pmi: false,
    personal_meeting_url: `https://us05web.zoom.us/j/${digits(10)}`,
    timezone: 'Europe/Berlin',
    verified: 1,
    dept: '',
    created_at: '2023-01-10T09:00:00Z',
    last_login_time: '2025-01-10T09:00:00Z',
    pic_url: '',
    language: 'en-US',
    phone_number: '',
    status: 'active',
    role_id: '0',
    account_id: hex(11),
    account_number: Number(digits(9)),
    cluster: 'us05',
    user_created_at: '2023-01-10T09:00:00Z',
    ...over,
  }
}

export async function startZoomFake(options?: Partial<FakeOptions>): Promise<ProviderFake> {
  const opts = resolveOptions({ ...DEFAULTS, clientSecret: canary('zoom', 'secret') }, options)
  const { app, ctx } = createFake('zoom', { ...opts, user: zoomUser(opts.user) })

  const tokenError = (reply: FastifyReply, status: number, error: string, reason: string) => reply.code(status).send({ reason, error })
  const apiError = (reply: FastifyReply, status: number, code: number, message: string) => reply.code(status).send({ code, message })

  // ---- authorize ------------------------------------------------------------------------------------
  app.get('/oauth/authorize', async (req, reply) => {
    const q = queryOf(req)
    if (maybeReset(ctx, 'authorize', req, reply)) return reply
    const check = checkAuthorize(ctx, q, { scopeRequired: false })
    if (check.kind === 'page') {
      noteAuthorize(ctx, q, 'page', null)
      return errorPage(reply, check.status, 'Zoom - Error', `${check.message} (4700)`)
    }
    const state = ctx.knobs.omitState ? undefined : q.state
    if (check.kind === 'redirect') {
      noteAuthorize(ctx, q, check.error, null)
      return redirectWith(reply, q.redirect_uri ?? '', { error: check.error, error_description: check.description, state })
    }
    if (ctx.knobs.deny) {
      noteAuthorize(ctx, q, 'access_denied', null)
      return redirectWith(reply, check.redirectUri, { error: 'access_denied', state })
    }
    // Zoom ignores the URL's scope: the grant is the app's configured scopes.
    const scope = applyDropScope(ctx, splitScopes(ctx.opts.grantedScopes))
    const code = ctx.store.issueCode(
      { clientId: q.client_id ?? '', redirectUri: check.redirectUri, challenge: check.challenge, scope, user: ctx.user, extra: {} },
      ctx.opts.codeTtlSeconds,
    )
    noteAuthorize(ctx, q, 'code', scope.join(' '))
    return redirectWith(reply, check.redirectUri, { code, state })
  })

  // ---- token ----------------------------------------------------------------------------------------
  function authenticateClient(req: FastifyRequest, reply: FastifyReply, form: Record<string, string>): boolean {
    const cred = clientCredentials(req, form)
    // Zoom: HTTP Basic only. A secret in the body alone is refused.
    if (!cred.basic) {
      tokenError(reply, 401, 'invalid_client', 'Invalid client_id or client_secret')
      return false
    }
    if (cred.basic.id !== ctx.opts.clientId || cred.basic.secret !== ctx.opts.clientSecret) {
      tokenError(reply, 401, 'invalid_client', 'Invalid client_id or client_secret')
      return false
    }
    return true
  }

  function tokenResponse(grant: Grant, refreshToken: string) {
    const at = ctx.store.mintAccess(grant, ctx.opts.accessTokenTtlSeconds)
    return {
      access_token: at.token,
      token_type: 'bearer',
      refresh_token: refreshToken,
      expires_in: ctx.opts.accessTokenTtlSeconds,
      scope: grant.scope.join(' '),
      api_url: ctx.url,
    }
  }

  app.post('/oauth/token', async (req, reply) => {
    const f = await tokenFaults(ctx, req, reply, () => ({ reason: 'Internal Error', error: 'server_error' }))
    if (f.handled) return reply
    const form = formOf(req)
    if (!authenticateClient(req, reply, form)) return reply
    if (f.forcedError === 'invalid_client') return tokenError(reply, 401, 'invalid_client', 'Invalid client_id or client_secret')
    if (f.forcedError) return tokenError(reply, 400, 'invalid_grant', 'Invalid Token!')

    if (form.grant_type === 'authorization_code') {
      const r = ctx.store.redeemCode(form.code, { clientId: ctx.opts.clientId, redirectUri: form.redirect_uri, verifier: form.code_verifier })
      if (!r.ok) {
        if (r.reason === 'redirect_mismatch') return tokenError(reply, 400, 'invalid_request', 'Redirect URI mismatch.')
        if (r.reason === 'pkce_missing' || r.reason === 'pkce_mismatch') return tokenError(reply, 400, 'invalid_grant', 'Invalid code_verifier.')
        return tokenError(reply, 400, 'invalid_grant', 'Invalid authorization code')
      }
      const rt = ctx.store.mintRefresh(r.grant, ctx.opts.refreshTokenTtlSeconds)
      return reply.send(tokenResponse(r.grant, rt.token))
    }
    if (form.grant_type === 'refresh_token') {
      const r = ctx.store.lookupRefresh(form.refresh_token, ctx.opts.clientId)
      if (!r.ok) {
        // Reuse of a rotated refresh token: treat as theft and kill the whole family.
        if (r.reason === 'superseded' && r.rec) ctx.store.revokeGrant(r.rec.grantId)
        return tokenError(reply, 400, 'invalid_grant', 'Invalid Token!')
      }
      // Rotation: the presented refresh token dies now; a new one is returned.
      r.rec.supersededAt = ctx.clock.now()
      const rt = ctx.store.mintRefresh(r.grant, ctx.opts.refreshTokenTtlSeconds)
      return reply.send(tokenResponse(r.grant, rt.token))
    }
    return tokenError(reply, 400, 'unsupported_grant_type', 'Grant type is not supported from token endpoint.')
  })

  // ---- revoke ---------------------------------------------------------------------------------------
  app.post('/oauth/revoke', async (req, reply) => {
    if (maybeReset(ctx, 'revoke', req, reply)) return reply
    const form = formOf(req)
    if (!authenticateClient(req, reply, form)) return reply
    if (queryOf(req).token && !form.token) {
      return tokenError(reply, 400, 'invalid_request', 'Token values are not supported as query parameters.')
    }
    const grant = ctx.store.revokeByToken(form.token)
    if (!grant) return tokenError(reply, 400, 'invalid_request', 'Invalid Token!')
    return reply.send({ status: 'success' })
  })

  // ---- API guard ------------------------------------------------------------------------------------
  async function guard(req: FastifyRequest, reply: FastifyReply, need: string[], meetingApi: boolean): Promise<Grant | null> {
    if (meetingApi) {
      const handled = await apiFaults(ctx, req, reply, {
        status: (s) =>
          s === 429
            ? { code: 429, message: 'You have reached the maximum per-second rate limit for this API. Try again later.' }
            : { code: s, message: s === 503 ? 'Service Unavailable' : 'Internal Error' },
        xml: (s) =>
          `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><error><code>${s === 429 ? 429 : 300}</code><message>${
            s === 429 ? 'You have reached the maximum per-second rate limit for this API. Try again later.' : 'Invalid request.'
          }</message></error>`,
      })
      if (handled) return null
    }
    const token = bearerOf(req)
    if (!token && queryOf(req).access_token) {
      apiError(reply, 401, 124, 'Invalid access token, this access token is not supported as query parameter string.')
      return null
    }
    if (meetingApi && forcedInvalidToken(ctx)) {
      apiError(reply, 401, 124, 'Invalid access token.')
      return null
    }
    const r = ctx.store.checkAccess(token)
    if (!r.ok) {
      apiError(reply, 401, 124, r.reason === 'expired' ? 'Access token is expired.' : 'Invalid access token.')
      return null
    }
    if (!need.some((s) => r.grant.scope.includes(s))) {
      apiError(reply, 400, 4711, `Invalid access token, does not contain scopes:[${need.slice(0, 2).join(', ')}].`)
      return null
    }
    return r.grant
  }

  // ---- identity -------------------------------------------------------------------------------------
  app.get('/v2/users/me', async (req, reply) => {
    if (maybeReset(ctx, 'userinfo', req, reply)) return reply
    const grant = await guard(req, reply, NEED.user, false)
    if (!grant) return reply
    if (ctx.knobs.userinfoFail) return apiError(reply, 500, 500, 'Internal Error')
    return reply.send(grant.user)
  })

  // ---- meetings -------------------------------------------------------------------------------------
  const badJson = (reply: FastifyReply) => apiError(reply, 400, 300, 'Request Body should be a valid JSON object.')
  const notFound = (reply: FastifyReply, id: string) => apiError(reply, 404, 3001, `Meeting does not exist: ${id}.`)

  app.post('/v2/users/:userId/meetings', async (req, reply) => {
    const grant = await guard(req, reply, NEED.create, true)
    if (!grant) return reply
    const { userId } = req.params as { userId: string }
    if (userId !== 'me' && userId !== grant.user.id && userId !== grant.user.email) {
      return apiError(reply, 404, 1001, `User does not exist: ${userId}.`)
    }
    const body = jsonObjectOf(req)
    if (!body) return badJson(reply)
    const invalid = validateMeeting(body)
    if (invalid) return reply.code(400).send({ code: 300, message: 'Validation Failed.', errors: [{ field: invalid, message: 'Invalid field.' }] })
    const meeting = newMeeting(ctx, grant, body)
    ctx.meetings.set(String(meeting.id), meeting)
    return reply.code(201).send(meeting)
  })

  // List meetings: pages of up to 300, `next_page_token` remembers where the next page starts (15 minutes).
  const pageTokens = new Map<string, { offset: number; type: string; pageSize: number; expiresAt: number }>()
  const LIST_TYPES = ['scheduled', 'live', 'upcoming', 'upcoming_meetings', 'previous_meetings']
  app.get('/v2/users/:userId/meetings', async (req, reply) => {
    const grant = await guard(req, reply, NEED.list, true)
    if (!grant) return reply
    const { userId } = req.params as { userId: string }
    if (userId !== 'me' && userId !== grant.user.id && userId !== grant.user.email) {
      return apiError(reply, 404, 1001, `User does not exist: ${userId}.`)
    }
    const q = queryOf(req)
    let type = q.type ?? 'scheduled'
    let pageSize = Math.min(Math.max(Number(q.page_size ?? 30) || 30, 1), 300)
    let offset = 0
    if (q.next_page_token) {
      const saved = pageTokens.get(q.next_page_token)
      if (!saved || saved.expiresAt < ctx.clock.now()) return apiError(reply, 400, 300, 'The next page token is invalid or expired.')
      ;({ type, pageSize, offset } = saved)
    }
    if (!LIST_TYPES.includes(type)) return apiError(reply, 400, 300, `Invalid field: type.`)
    const now = ctx.clock.now()
    const endOf = (m: Record<string, any>) => Date.parse(m.start_time) + Number(m.duration ?? 0) * 60_000
    const all = [...ctx.meetings.values()]
      .filter((m) => m.host_id === grant.user.id)
      .filter((m) => {
        if (type === 'live') return m.status === 'started'
        if (type === 'upcoming' || type === 'upcoming_meetings') return endOf(m) > now
        if (type === 'previous_meetings') return endOf(m) <= now
        return true
      })
      .sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time) || Number(a.id) - Number(b.id))
    const page = all.slice(offset, offset + pageSize)
    let next = ''
    if (offset + pageSize < all.length) {
      next = hex(16)
      pageTokens.set(next, { offset: offset + pageSize, type, pageSize, expiresAt: now + 15 * 60_000 })
    }
    return reply.send({
      page_size: pageSize,
      total_records: all.length,
      next_page_token: next,
      meetings: page.map((m) => ({
        uuid: m.uuid,
        id: m.id,
        host_id: m.host_id,
        topic: m.topic,
        type: m.type,
        start_time: m.start_time,
        duration: m.duration,
        timezone: m.timezone,
        agenda: String(m.agenda ?? '').slice(0, 250),
        created_at: m.created_at,
        join_url: m.join_url,
      })),
    })
  })

  app.get('/v2/meetings/:meetingId', async (req, reply) => {
    const grant = await guard(req, reply, NEED.read, true)
    if (!grant) return reply
    const { meetingId } = req.params as { meetingId: string }
    const m = ctx.meetings.get(meetingId)
    if (!m) return notFound(reply, meetingId)
    return reply.send(m)
  })

  app.patch('/v2/meetings/:meetingId', async (req, reply) => {
    const grant = await guard(req, reply, NEED.update, true)
    if (!grant) return reply
    const { meetingId } = req.params as { meetingId: string }
    const m = ctx.meetings.get(meetingId)
    if (!m) return notFound(reply, meetingId)
    const body = jsonObjectOf(req)
    if (!body || req.body instanceof UnparseableBody) return badJson(reply)
    const invalid = validateMeeting(body)
    if (invalid) return reply.code(400).send({ code: 300, message: 'Validation Failed.', errors: [{ field: invalid, message: 'Invalid field.' }] })
    for (const key of ['topic', 'agenda', 'duration', 'timezone', 'type', 'password'] as const) {
      if (body[key] !== undefined) m[key] = body[key]
    }
    if (body.start_time !== undefined) m.start_time = isoNoMillis(Date.parse(String(body.start_time)))
    if (body.settings && typeof body.settings === 'object') m.settings = { ...m.settings, ...body.settings }
    // Zoom: 204 No Content; read the meeting again for join_url.
    return reply.code(204).send()
  })

  app.delete('/v2/meetings/:meetingId', async (req, reply) => {
    const grant = await guard(req, reply, NEED.delete, true)
    if (!grant) return reply
    const { meetingId } = req.params as { meetingId: string }
    if (!ctx.meetings.delete(meetingId)) return notFound(reply, meetingId)
    return reply.code(204).send()
  })

  return finishFake(app, ctx, (url) => ({
    ZOOM_AUTHORIZE_URL: `${url}/oauth/authorize`,
    ZOOM_TOKEN_URL: `${url}/oauth/token`,
    ZOOM_REVOKE_URL: `${url}/oauth/revoke`,
    ZOOM_USERINFO_URL: `${url}/v2/users/me`,
    ZOOM_API_URL: `${url}/v2`,
    ZOOM_CLIENT_ID: ctx.opts.clientId,
    ZOOM_CLIENT_SECRET: ctx.opts.clientSecret,
  }))
}

/** The first invalid field name, or null. */
function validateMeeting(body: Record<string, any>): string | null {
  if (body.topic !== undefined && (typeof body.topic !== 'string' || body.topic.length > 200)) return 'topic'
  if (body.agenda !== undefined && (typeof body.agenda !== 'string' || body.agenda.length > 2000)) return 'agenda'
  if (body.start_time !== undefined && Number.isNaN(Date.parse(String(body.start_time)))) return 'start_time'
  if (body.duration !== undefined && (!Number.isInteger(body.duration) || body.duration < 0)) return 'duration'
  if (body.password !== undefined && (typeof body.password !== 'string' || body.password.length > 10)) return 'password'
  if (body.type !== undefined && ![1, 2, 3, 8, 10].includes(body.type)) return 'type'
  return null
}

function newMeeting(ctx: FakeContext, grant: Grant, body: Record<string, any>): Record<string, any> {
  const id = Number(`8${digits(10)}`) // 11 digits, well within 2^53
  const password: string = typeof body.password === 'string' ? body.password : hex(3)
  const encrypted = Buffer.from(hex(16)).toString('base64url').slice(0, 32)
  const zak = canary('zoom', 'zak')
  ctx.issued.other.push(zak)
  const settings = (body.settings && typeof body.settings === 'object' ? body.settings : {}) as Record<string, unknown>
  const now = ctx.clock.now()
  return {
    uuid: `${Buffer.from(hex(8), 'hex').toString('base64').replace(/=+$/, '')}${hex(4)}==`,
    id,
    host_id: grant.user.id,
    host_email: grant.user.email,
    topic: typeof body.topic === 'string' ? body.topic : 'Zoom meeting',
    type: body.type ?? 2,
    status: 'waiting',
    start_time: isoNoMillis(body.start_time ? Date.parse(String(body.start_time)) : now),
    duration: body.duration ?? 60,
    timezone: body.timezone ?? grant.user.timezone ?? 'UTC',
    agenda: body.agenda ?? '',
    created_at: isoNoMillis(now),
    start_url: `https://us05web.zoom.us/s/${id}?zak=${zak}`,
    join_url: `https://us05web.zoom.us/j/${id}?pwd=${encrypted}`,
    password,
    h323_password: digits(6),
    pstn_password: digits(6),
    encrypted_password: encrypted,
    settings: {
      host_video: false,
      participant_video: false,
      cn_meeting: false,
      in_meeting: false,
      join_before_host: false,
      jbh_time: 0,
      mute_upon_entry: false,
      watermark: false,
      use_pmi: false,
      approval_type: 2,
      audio: 'voip',
      auto_recording: 'none',
      enforce_login: false,
      waiting_room: true,
      meeting_authentication: false,
      encryption_type: 'enhanced_encryption',
      global_dial_in_countries: ['US', 'DE'],
      global_dial_in_numbers: [
        { country: 'US', country_name: 'US', city: 'New York', number: '+1 646 558 8656', type: 'toll' },
        { country: 'US', country_name: 'US', city: 'San Jose', number: '+1 669 900 6833', type: 'toll' },
        { country: 'DE', country_name: 'Germany', number: '+49 69 7104 9922', type: 'toll' },
      ],
      ...settings,
    },
    pre_schedule: false,
  }
}
