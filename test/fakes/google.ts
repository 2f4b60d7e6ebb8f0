/**
 * Google fake: OAuth 2.0 web-server flow (/o/oauth2/v2/auth, /token, /revoke), OpenID userinfo
 * (/v1/userinfo) and Calendar v3 events with Meet conferenceData (/calendar/v3/...).
 *
 * What was checked, and where (search tools over stored public copies, see the report):
 *   - Token response fields {access_token, expires_in, refresh_token, scope, token_type:"Bearer",
 *     id_token}; refresh_token "is only present if the access_type parameter was set to offline"
 *     — google-auth-library CredentialRequest docs (cloud.google.com). Refresh keeps the same refresh
 *     token and omits it from the answer; refresh tokens are not rotated (PROVIDERS.md, Google OAuth docs
 *     summary). A second consent without prompt=consent returns no refresh token (PROVIDERS.md).
 *   - Revocation: POST https://oauth2.googleapis.com/revoke with token= (query or form); revoking an
 *     access token also revokes its refresh token; 200 on success, 400 on error (zenn.dev gz article,
 *     HunnyJummani gist, GitGuardian detector notes).
 *   - Refresh failure {"error":"invalid_grant","error_description":"Token has been expired or revoked."}
 *     (PROVIDERS.md; workos.com invalid_grant article).
 *   - Calendar: conferenceData.createRequest{requestId, conferenceSolutionKey{type:"hangoutsMeet"}} needs
 *     ?conferenceDataVersion=1 (otherwise conference data is ignored); "If an ID provided is the same as
 *     for the previous request, the request is ignored" (CreateConferenceRequest docs, googleapis .NET /
 *     Ruby / Elixir clients); status.statusCode pending|success|failure; entryPoints video/phone/more.
 *   - 403 {"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{…
 *     "reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED","details":[{…
 *     "reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}} (analogdotnow/Analog #296, GeneralTask #2160).
 *   - events.insert with a client-chosen `id`: base32hex characters (a-v, 0-9), 5 to 1024 of them, unique per
 *     calendar (Event resource docs, as generated into Google API clients); a taken id answers 409 reason
 *     "duplicate", "The requested identifier already exists." (Calendar "Handle API errors"; the 409 of a
 *     deleted event's id is an assumption: Google keeps deleted events readable as "cancelled").
 *   - DELETE an already deleted event: 410 "Resource has been deleted" (google-api-python-client #210,
 *     GAS-ICS-Sync #472, OutlookGoogleCalendarSync #998); events.get of a deleted event still answers
 *     200 with status "cancelled" (google-api-java-client #1535).
 * Assumptions:
 *   - Google accepts code_challenge_method=plain; this fake requires S256.
 *   - A reused requestId on a NEW event: "If an ID provided is the same as for the previous request, the request
 *     is ignored" (CreateConferenceRequest): the new event gets no conference at all (no conferenceData), so no
 *     Meet link. (An earlier version of this fake handed it the old conference; the docs say otherwise.)
 *   - Exact texts of code-exchange errors ("Bad Request", "Invalid code verifier.",
 *     redirect_uri_mismatch), the userinfo 401 body, and the Calendar 401 texts.
 *   - Token-response scope expands email/profile to the userinfo.* URLs (commonly observed).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import {
  type FakeOptions,
  type Grant,
  type ProviderFake,
  apiFaults,
  bearerOf,
  canary,
  checkAuthorize,
  clientCredentials,
  createFake,
  digits,
  errorPage,
  fakeJwt,
  finishFake,
  forcedInvalidToken,
  formOf,
  hex,
  jsonObjectOf,
  maybeReset,
  noteAuthorize,
  queryOf,
  redirectWith,
  resolveOptions,
  tokenFaults,
  UnparseableBody,
} from './common.js'

const DEFAULTS: FakeOptions = {
  clientId: `${digits(12)}-${hex(16)}.apps.googleusercontent.com`,
  clientSecret: '',
  accessTokenTtlSeconds: 3599,
  /** null = refresh tokens do not expire by time. Set e.g. 7 days to mimic an app in "Testing" status. */
  refreshTokenTtlSeconds: null,
  codeTtlSeconds: 600,
  redirectUris: null,
  grantedScopes: null,
  tenant: '',
  user: {},
  knobs: {},
}

const SCOPE_ALIASES: Record<string, string> = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
}
const CAL = 'https://www.googleapis.com/auth/calendar'
const CAL_EVENTS = 'https://www.googleapis.com/auth/calendar.events'
/** "See, create, change, and delete events on Google calendars you own": enough for the primary calendar. */
const CAL_EVENTS_OWNED = 'https://www.googleapis.com/auth/calendar.events.owned'

function googleUser(over: Record<string, unknown>): Record<string, unknown> {
  return {
    sub: digits(21),
    name: 'Gary Google',
    given_name: 'Gary',
    family_name: 'Google',
    picture: 'https://lh3.googleusercontent.com/a/fake-avatar=s96-c',
    email: 'gary.google@example.com',
    email_verified: true,
    ...over,
  }
}

function meetCode(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  const pick = (n: number) => Array.from({ length: n }, () => letters[Math.floor(Math.random() * 26)]).join('')
  return `${pick(3)}-${pick(4)}-${pick(3)}`
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString()
}

interface ConferenceState {
  requestId: string
  remainingPolls: number
  outcome: 'success' | 'failure'
}

export async function startGoogleFake(options?: Partial<FakeOptions>): Promise<ProviderFake> {
  const opts = resolveOptions({ ...DEFAULTS, clientSecret: canary('google', 'secret') }, options)
  const { app, ctx } = createFake('google', { ...opts, user: googleUser(opts.user) })
  /** clientId|sub pairs that already received a refresh token (cleared by revocation). */
  const consented = new Set<string>()
  /** requestId → the finished conference it created. */
  const conferencesByRequest = new Map<string, Record<string, any>>()
  const pending = new Map<string, ConferenceState>()
  const calendarOf = new Map<string, string>()
  const deleted = new Map<string, Record<string, any>>()

  const oauthError = (reply: FastifyReply, status: number, error: string, description: string) =>
    reply.code(status).send({ error, error_description: description })

  // ---- authorize ------------------------------------------------------------------------------------
  app.get('/o/oauth2/v2/auth', async (req, reply) => {
    const q = queryOf(req)
    if (maybeReset(ctx, 'authorize', req, reply)) return reply
    const check = checkAuthorize(ctx, q, { scopeRequired: true })
    if (check.kind === 'page') {
      noteAuthorize(ctx, q, 'page', null)
      return errorPage(reply, check.status, 'Error 400: invalid_request', check.message)
    }
    const state = ctx.knobs.omitState ? undefined : q.state
    if (check.kind === 'redirect') {
      noteAuthorize(ctx, q, check.error, null)
      return redirectWith(reply, q.redirect_uri ?? '', { error: check.error, state })
    }
    if (ctx.knobs.deny) {
      noteAuthorize(ctx, q, 'access_denied', null)
      return redirectWith(reply, check.redirectUri, { error: 'access_denied', state })
    }
    const requested = [...new Set(check.requestedScope.map((s) => SCOPE_ALIASES[s] ?? s))]
    const drop = ctx.knobs.dropScope ? (SCOPE_ALIASES[ctx.knobs.dropScope] ?? ctx.knobs.dropScope) : null
    const scope = requested.filter((s) => s !== drop)
    const user = ctx.user
    const key = `${q.client_id}|${String(user.sub)}`
    const prompts = (q.prompt ?? '').split(' ')
    // A refresh token comes only with access_type=offline, and only on first consent or prompt=consent.
    const offline = q.access_type === 'offline' && (prompts.includes('consent') || !consented.has(key))
    const code = ctx.store.issueCode(
      {
        clientId: q.client_id ?? '',
        redirectUri: check.redirectUri,
        challenge: check.challenge,
        scope,
        user,
        extra: { offline: offline ? '1' : '', nonce: q.nonce ?? '', consentKey: key },
      },
      ctx.opts.codeTtlSeconds,
    )
    noteAuthorize(ctx, q, 'code', scope.join(' '))
    // Google echoes the granted scopes in the redirect.
    return redirectWith(reply, check.redirectUri, {
      state,
      iss: 'https://accounts.google.com',
      code,
      scope: scope.join(' '),
      authuser: '0',
      prompt: prompts.includes('consent') ? 'consent' : 'none',
    })
  })

  // ---- token ----------------------------------------------------------------------------------------
  function tokenResponse(grant: Grant, refreshToken: string | null) {
    const at = ctx.store.mintAccess(grant, ctx.opts.accessTokenTtlSeconds)
    const body: Record<string, unknown> = {
      access_token: at.token,
      expires_in: ctx.opts.accessTokenTtlSeconds,
    }
    if (refreshToken) body.refresh_token = refreshToken
    if (refreshToken && ctx.opts.refreshTokenTtlSeconds !== null) body.refresh_token_expires_in = ctx.opts.refreshTokenTtlSeconds
    body.scope = grant.scope.join(' ')
    body.token_type = 'Bearer'
    if (grant.scope.includes('openid')) {
      const now = Math.floor(ctx.clock.now() / 1000)
      const u = grant.user
      const idToken = fakeJwt({
        iss: 'https://accounts.google.com',
        azp: grant.clientId,
        aud: grant.clientId,
        sub: u.sub,
        email: grant.scope.includes(SCOPE_ALIASES.email ?? '') ? u.email : undefined,
        email_verified: grant.scope.includes(SCOPE_ALIASES.email ?? '') ? u.email_verified : undefined,
        name: u.name,
        picture: u.picture,
        nonce: grant.extra.nonce || undefined,
        iat: now,
        exp: now + 3600,
      })
      ctx.issued.other.push(idToken)
      body.id_token = idToken
    }
    return body
  }

  app.post('/token', async (req, reply) => {
    const f = await tokenFaults(ctx, req, reply, () => ({ error: 'internal_failure', error_description: 'Backend Error' }))
    if (f.handled) return reply
    const form = formOf(req)
    // client_secret_post or client_secret_basic; Google accepts both.
    const cred = clientCredentials(req, form)
    if (!cred.clientId) return oauthError(reply, 400, 'invalid_request', 'Could not determine client ID from request.')
    if (cred.clientId !== ctx.opts.clientId) return oauthError(reply, 401, 'invalid_client', 'The OAuth client was not found.')
    if (cred.clientSecret !== ctx.opts.clientSecret || f.forcedError === 'invalid_client') {
      return oauthError(reply, 401, 'invalid_client', 'Unauthorized')
    }
    if (f.forcedError) return oauthError(reply, 400, 'invalid_grant', 'Token has been expired or revoked.')

    if (form.grant_type === 'authorization_code') {
      const r = ctx.store.redeemCode(form.code, { clientId: cred.clientId, redirectUri: form.redirect_uri, verifier: form.code_verifier })
      if (!r.ok) {
        if (r.reason === 'redirect_mismatch') return oauthError(reply, 400, 'redirect_uri_mismatch', 'Bad Request')
        if (r.reason === 'pkce_missing') return oauthError(reply, 400, 'invalid_grant', 'Missing code verifier.')
        if (r.reason === 'pkce_mismatch') return oauthError(reply, 400, 'invalid_grant', 'Invalid code verifier.')
        return oauthError(reply, 400, 'invalid_grant', r.reason === 'unknown' ? 'Malformed auth code.' : 'Bad Request')
      }
      let rt: string | null = null
      if (r.grant.extra.offline === '1') {
        rt = ctx.store.mintRefresh(r.grant, ctx.opts.refreshTokenTtlSeconds).token
        consented.add(r.grant.extra.consentKey ?? '')
      }
      return reply.send(tokenResponse(r.grant, rt))
    }
    if (form.grant_type === 'refresh_token') {
      const r = ctx.store.lookupRefresh(form.refresh_token, cred.clientId)
      if (!r.ok) {
        if (r.reason === 'client_mismatch') return oauthError(reply, 401, 'unauthorized_client', 'Unauthorized')
        return oauthError(reply, 400, 'invalid_grant', 'Token has been expired or revoked.')
      }
      // Google keeps the refresh token; the answer has no refresh_token.
      return reply.send(tokenResponse(r.grant, null))
    }
    return oauthError(reply, 400, 'unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`)
  })

  // ---- revoke ---------------------------------------------------------------------------------------
  app.post('/revoke', async (req, reply) => {
    if (maybeReset(ctx, 'revoke', req, reply)) return reply
    const token = formOf(req).token ?? queryOf(req).token
    const rec = token ? (ctx.store.access.get(token) ?? ctx.store.refresh.get(token)) : undefined
    const grant = rec ? ctx.store.grants.get(rec.grantId) : undefined
    if (!grant || grant.revoked) return oauthError(reply, 400, 'invalid_token', 'Token expired or revoked')
    ctx.store.revokeByToken(token)
    consented.delete(grant.extra.consentKey ?? '')
    return reply.type('application/json; charset=utf-8').send('{}')
  })

  // ---- userinfo -------------------------------------------------------------------------------------
  app.get('/v1/userinfo', async (req, reply) => {
    if (maybeReset(ctx, 'userinfo', req, reply)) return reply
    const r = ctx.store.checkAccess(bearerOf(req))
    if (!r.ok) {
      reply.header('www-authenticate', 'Bearer realm="https://accounts.google.com/", error="invalid_token"')
      return oauthError(reply, 401, 'invalid_request', 'Invalid Credentials')
    }
    if (ctx.knobs.userinfoFail) return oauthError(reply, 500, 'internal_failure', 'Backend Error')
    const u = r.grant.user
    const out: Record<string, unknown> = { sub: u.sub }
    if (r.grant.scope.includes(SCOPE_ALIASES.profile ?? '')) {
      Object.assign(out, { name: u.name, given_name: u.given_name, family_name: u.family_name, picture: u.picture })
    }
    if (r.grant.scope.includes(SCOPE_ALIASES.email ?? '')) Object.assign(out, { email: u.email, email_verified: u.email_verified })
    if (u.hd) out.hd = u.hd
    return reply.send(out)
  })

  // ---- Calendar guard -------------------------------------------------------------------------------
  function gError(reply: FastifyReply, status: number, reason: string, message: string, extra: Record<string, unknown> = {}) {
    return reply.code(status).send({ error: { errors: [{ domain: 'global', reason, message }], code: status, message, ...extra } })
  }

  async function guard(req: FastifyRequest, reply: FastifyReply): Promise<Grant | null> {
    const handled = await apiFaults(ctx, req, reply, {
      status: (s) =>
        s === 429 || s === 403
          ? { error: { errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' }], code: s, message: 'Rate Limit Exceeded' } }
          : { error: { errors: [{ domain: 'global', reason: 'backendError', message: 'Backend Error' }], code: s, message: 'Backend Error' } },
    })
    if (handled) return null
    const token = bearerOf(req)
    const r = forcedInvalidToken(ctx) ? ({ ok: false, reason: 'revoked' } as const) : ctx.store.checkAccess(token)
    if (!r.ok) {
      reply.header('www-authenticate', 'Bearer realm="https://accounts.google.com/", error="invalid_token"')
      const missing = r.reason === 'missing'
      reply.code(401).send({
        error: {
          code: 401,
          message: missing
            ? 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
            : 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          errors: [
            missing
              ? { message: 'Login Required.', domain: 'global', reason: 'required', location: 'Authorization', locationType: 'header' }
              : { message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' },
          ],
          status: 'UNAUTHENTICATED',
        },
      })
      return null
    }
    if (!r.grant.scope.includes(CAL) && !r.grant.scope.includes(CAL_EVENTS) && !r.grant.scope.includes(CAL_EVENTS_OWNED)) {
      reply.header('www-authenticate', `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${CAL_EVENTS_OWNED}"`)
      reply.code(403).send({
        error: {
          code: 403,
          message: 'Request had insufficient authentication scopes.',
          errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
          status: 'PERMISSION_DENIED',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
              domain: 'googleapis.com',
              metadata: { service: 'calendar-json.googleapis.com', method: 'calendar.v3.Events.Insert' },
            },
          ],
        },
      })
      return null
    }
    return r.grant
  }

  /** 'primary' and the user's address name the same calendar; anything else is another calendar. */
  const calendarKey = (grant: Grant, calendarId: string) => (calendarId === 'primary' ? String(grant.user.email) : calendarId)

  function finishedConference(requestId: string, outcome: 'success' | 'failure'): Record<string, any> {
    const key = { type: 'hangoutsMeet' }
    if (outcome === 'failure') return { createRequest: { requestId, conferenceSolutionKey: key, status: { statusCode: 'failure' } } }
    const cid = meetCode()
    const pin = digits(9)
    return {
      createRequest: { requestId, conferenceSolutionKey: key, status: { statusCode: 'success' } },
      entryPoints: [
        { entryPointType: 'video', uri: `https://meet.google.com/${cid}`, label: `meet.google.com/${cid}` },
        { entryPointType: 'phone', uri: 'tel:+1-904-900-0345', label: '+1 904-900-0345', pin, regionCode: 'US' },
        { entryPointType: 'more', uri: `https://tel.meet/${cid}?pin=${digits(13)}`, pin },
      ],
      conferenceSolution: {
        key,
        name: 'Google Meet',
        iconUri: 'https://fonts.gstatic.com/s/i/productlogo/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png',
      },
      conferenceId: cid,
    }
  }

  /** Put a finished conference on the event (hangoutLink follows the video entry point). */
  function attachConference(ev: Record<string, any>, conf: Record<string, any>) {
    ev.conferenceData = conf
    const video = (conf.entryPoints as Array<Record<string, string>> | undefined)?.find((e) => e.entryPointType === 'video')
    if (video) ev.hangoutLink = video.uri
    else delete ev.hangoutLink
  }

  /** Start conference creation for an event; pendingPolls decides how long it stays pending. */
  function startConference(ev: Record<string, any>, createRequest: Record<string, any>) {
    const requestId = String(createRequest.requestId ?? '')
    if (conferencesByRequest.has(requestId) || [...pending.values()].some((p) => p.requestId === requestId)) {
      // Seen before: the request is ignored.
      delete ev.conferenceData
      delete ev.hangoutLink
      return
    }
    const outcome = ctx.knobs.conferenceFailure ? 'failure' : 'success'
    if (ctx.knobs.pendingPolls > 0) {
      pending.set(ev.id, { requestId, remainingPolls: ctx.knobs.pendingPolls, outcome })
      ev.conferenceData = { createRequest: { requestId, conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'pending' } } }
      delete ev.hangoutLink
      return
    }
    const conf = finishedConference(requestId, outcome)
    if (outcome === 'success') conferencesByRequest.set(requestId, conf)
    attachConference(ev, conf)
  }

  function touch(ev: Record<string, any>) {
    ev.updated = rfc3339(ctx.clock.now())
    ev.etag = `"${digits(16)}"`
  }

  function validTime(t: unknown): boolean {
    if (!t || typeof t !== 'object') return false
    const o = t as Record<string, unknown>
    if (typeof o.dateTime === 'string') return !Number.isNaN(Date.parse(o.dateTime))
    return typeof o.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(o.date)
  }

  // ---- events ---------------------------------------------------------------------------------------
  const base = '/calendar/v3/calendars/:calendarId/events'

  app.post(base, async (req, reply) => {
    const grant = await guard(req, reply)
    if (!grant) return reply
    const { calendarId } = req.params as { calendarId: string }
    const q = queryOf(req)
    const cal = calendarKey(grant, calendarId)
    if (cal !== grant.user.email) return gError(reply, 404, 'notFound', 'Not Found')
    if (req.body instanceof UnparseableBody) return gError(reply, 400, 'parseError', 'Parse Error')
    const body = jsonObjectOf(req)
    if (!body) return gError(reply, 400, 'required', 'Missing start time.')
    if (!validTime(body.start)) return gError(reply, 400, 'required', 'Missing start time.')
    if (!validTime(body.end)) return gError(reply, 400, 'required', 'Missing end time.')
    const withConference = q.conferenceDataVersion === '1' && body.conferenceData?.createRequest
    if (withConference && body.conferenceData.createRequest.conferenceSolutionKey?.type !== 'hangoutsMeet') {
      return gError(reply, 400, 'invalid', 'Invalid conference type value.')
    }
    // A client may name the event (base32hex, 5..1024 characters, unique per calendar; a taken id, also one of a
    // deleted event, answers 409 duplicate). Otherwise Google picks one.
    if (body.id !== undefined && (typeof body.id !== 'string' || !/^[a-v0-9]{5,1024}$/.test(body.id))) return gError(reply, 400, 'invalid', 'Invalid resource id value.')
    if (typeof body.id === 'string' && (calendarOf.has(body.id) || ctx.meetings.has(body.id) || deleted.has(body.id))) {
      return gError(reply, 409, 'duplicate', 'The requested identifier already exists.')
    }
    const id = typeof body.id === 'string' ? body.id : hex(13)
    const email = String(grant.user.email)
    const now = rfc3339(ctx.clock.now())
    const ev: Record<string, any> = {
      kind: 'calendar#event',
      etag: `"${digits(16)}"`,
      id,
      status: 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${email}`).toString('base64url')}`,
      created: now,
      updated: now,
      summary: body.summary,
      description: body.description,
      location: body.location,
      creator: { email, self: true },
      organizer: { email, self: true },
      start: body.start,
      end: body.end,
      iCalUID: `${id}@google.com`,
      sequence: 0,
      attendees: Array.isArray(body.attendees)
        ? body.attendees.map((a: Record<string, unknown>) => ({ responseStatus: 'needsAction', ...a }))
        : undefined,
      reminders: body.reminders ?? { useDefault: true },
      eventType: 'default',
    }
    if (withConference) startConference(ev, body.conferenceData.createRequest)
    ctx.meetings.set(id, ev)
    calendarOf.set(id, cal)
    return reply.send(ev)
  })

  /** The event, or an answer already sent (404 for another calendar or an unknown id). */
  function findEvent(req: FastifyRequest, reply: FastifyReply, grant: Grant): { ev: Record<string, any>; deleted: boolean } | null {
    const { calendarId, eventId } = req.params as { calendarId: string; eventId: string }
    const cal = calendarKey(grant, calendarId)
    if (calendarOf.get(eventId) !== cal) {
      gError(reply, 404, 'notFound', 'Not Found')
      return null
    }
    const live = ctx.meetings.get(eventId)
    if (live) return { ev: live, deleted: false }
    const gone = deleted.get(eventId)
    if (gone) return { ev: gone, deleted: true }
    gError(reply, 404, 'notFound', 'Not Found')
    return null
  }

  app.get(`${base}/:eventId`, async (req, reply) => {
    const grant = await guard(req, reply)
    if (!grant) return reply
    const found = findEvent(req, reply, grant)
    if (!found) return reply
    const ev = found.ev
    const p = pending.get(ev.id)
    if (p && !found.deleted) {
      if (p.remainingPolls > 0) p.remainingPolls -= 1
      else {
        pending.delete(ev.id)
        const conf = finishedConference(p.requestId, p.outcome)
        if (p.outcome === 'success') conferencesByRequest.set(p.requestId, conf)
        attachConference(ev, conf)
        touch(ev)
      }
    }
    return reply.send(ev)
  })

  app.patch(`${base}/:eventId`, async (req, reply) => {
    const grant = await guard(req, reply)
    if (!grant) return reply
    const found = findEvent(req, reply, grant)
    if (!found) return reply
    if (found.deleted) return gError(reply, 410, 'deleted', 'Resource has been deleted')
    if (req.body instanceof UnparseableBody) return gError(reply, 400, 'parseError', 'Parse Error')
    const body = jsonObjectOf(req) ?? {}
    const ev = found.ev
    if (body.start !== undefined && !validTime(body.start)) return gError(reply, 400, 'invalid', 'Invalid start time.')
    if (body.end !== undefined && !validTime(body.end)) return gError(reply, 400, 'invalid', 'Invalid end time.')
    for (const key of ['summary', 'description', 'location', 'attendees', 'reminders', 'transparency', 'visibility'] as const) {
      if (body[key] !== undefined) ev[key] = body[key]
    }
    if (body.start !== undefined || body.end !== undefined) {
      if (body.start !== undefined) ev.start = body.start
      if (body.end !== undefined) ev.end = body.end
      ev.sequence += 1
    }
    if (queryOf(req).conferenceDataVersion === '1' && body.conferenceData !== undefined) {
      if (body.conferenceData === null) {
        delete ev.conferenceData
        delete ev.hangoutLink
      } else if (body.conferenceData.createRequest && body.conferenceData.createRequest.requestId !== ev.conferenceData?.createRequest?.requestId) {
        startConference(ev, body.conferenceData.createRequest)
      }
    }
    touch(ev)
    return reply.send(ev)
  })

  app.delete(`${base}/:eventId`, async (req, reply) => {
    const grant = await guard(req, reply)
    if (!grant) return reply
    const found = findEvent(req, reply, grant)
    if (!found) return reply
    if (found.deleted) return gError(reply, 410, 'deleted', 'Resource has been deleted')
    const ev = found.ev
    ctx.meetings.delete(ev.id)
    ev.status = 'cancelled'
    touch(ev)
    deleted.set(ev.id, ev)
    pending.delete(ev.id)
    return reply.code(204).send()
  })

  return finishFake(app, ctx, (url) => ({
    GOOGLE_AUTHORIZE_URL: `${url}/o/oauth2/v2/auth`,
    GOOGLE_TOKEN_URL: `${url}/token`,
    GOOGLE_REVOKE_URL: `${url}/revoke`,
    GOOGLE_USERINFO_URL: `${url}/v1/userinfo`,
    GOOGLE_API_URL: `${url}/calendar/v3`,
    GOOGLE_CLIENT_ID: ctx.opts.clientId,
    GOOGLE_CLIENT_SECRET: ctx.opts.clientSecret,
    // Google names itself in the redirect (RFC 9207); the fake does too, like a proxy of Google would.
    GOOGLE_ISSUER: 'https://accounts.google.com',
  }))
}

