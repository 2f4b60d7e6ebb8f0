/**
 * Microsoft fake: identity platform v2 (/{tenant}/oauth2/v2.0/authorize|token) and Microsoft Graph
 * (/v1.0/me, /v1.0/me/onlineMeetings) for Teams meetings.
 *
 * What was checked, and where (search tools over stored public copies, see the report):
 *   - Authorize/token parameters, PKCE (S256 and plain both accepted by Microsoft; this fake requires
 *     S256), codes live "about 10 minutes", redirect error format (error + error_description), token
 *     response {access_token, token_type:"Bearer", expires_in:3599, scope, refresh_token (only with
 *     offline_access), id_token (only with openid)}, error body {error, error_description "AADSTSnnnn:
 *     …\r\nTrace ID…", error_codes, timestamp, trace_id, correlation_id, error_uri}, client secret in the
 *     body or HTTP Basic ("The Basic auth pattern … is also supported"), refresh tokens "aren't revoked
 *     when used" (rotation, old one still usable) — MicrosoftDocs/entra-docs
 *     docs/identity-platform/v2-oauth2-auth-code-flow.md.
 *   - ext_expires_in in token responses — msal-common ServerAuthorizationTokenResponse docs.
 *   - AADSTS codes: 7000215 invalid secret (invalid_client), 54005 code already redeemed (Microsoft
 *     "Handling error AADSTS54005"), 70000 redirect_uri not valid, 50148 code_verifier mismatch,
 *     9002313 malformed grant, 700082 refresh token expired by inactivity (Q&A threads and issues found
 *     by search), 500200 personal account not supported (files-community/Files #17852).
 *   - AADSTS500200 is shown on Microsoft's own sign-in page ("Sorry, but we're having trouble signing
 *     you in"); the app gets no callback. So with personalAccount on, an `organizations`/tenant-id
 *     authorize answers that page; with `common`/`consumers` the MSA signs in and Graph then refuses
 *     onlineMeetings: "Delegated (personal Microsoft account): Not supported" (Create onlineMeeting docs,
 *     microsoft-graph-docs-contrib) and the observed error {"error":{"code":"AuthenticationError",
 *     "message":"Error authenticating with resource"}} (microsoft-graph-docs #13612,
 *     OfficeDev/msteams-meetings-template #3). /v1.0/me itself works for personal accounts.
 *   - onlineMeetings: create 201 with id, joinWebUrl, subject, startDateTime, endDateTime (UTC, 7
 *     fraction digits), audioConferencing{conferenceId, tollNumber, tollFreeNumber, tollNumbers[],
 *     tollFreeNumbers[], dialinUrl}, chatInfo, participants, joinMeetingIdSettings{isPasscodeRequired,
 *     joinMeetingId, passcode}, lobbyBypassSettings; PATCH 200 with the updated object, start and end
 *     must be changed together — application-post-onlinemeetings.md, onlinemeeting-update.md,
 *     resources/audioconferencing (learn.microsoft.com: tollNumber/tollFreeNumber deprecated in favour of
 *     the arrays). 403 {"error":{"code":"Forbidden","message":""}} without the permission
 *     (microsoft-graph-docs-contrib #6320).
 *   - createOrGet: POST /me/onlineMeetings/createOrGet with externalId (required), startDateTime,
 *     endDateTime, subject, participants; 201 with a new meeting, 200 with the existing one when this user
 *     already has a meeting with that externalId (tenantId + userId + externalId identify it; another user's
 *     same externalId is another meeting); start defaults to now and end to start + 1 hour; end without start
 *     or end before start is an error; personal accounts not supported (onlinemeeting-createorget.md,
 *     microsoft-graph-docs-contrib).
 * Assumptions:
 *   - createOrGet returns an existing meeting unchanged, whatever the body says (the docs do not say; their
 *     examples and microsoft-graph-docs-contrib #465 suggest so), and ignores body fields other than its
 *     parameters (msgraph-sdk-dotnet #1121: lobbyBypassSettings ignored). POST /me/onlineMeetings with an
 *     externalId is refused with 400 ("only for use with createOrGet", msgraph-sdk-dotnet #1121; the wording
 *     is ours). A deleted meeting's externalId can be used again.
 *   - `scope` is REQUIRED on refresh here (AADSTS900144), although the current docs call it optional:
 *     the brief asks the app to always resend it.
 *   - Token-response `scope` lists Graph scopes by short name plus openid/profile/email, without
 *     offline_access (what MSAL logs usually show).
 *   - The onlineMeetings 403 status for personal accounts, the 404 body after DELETE, Graph 401 messages
 *     ("Access token is empty.", "Lifetime validation failed, the token is expired.", "IDX14100 …").
 *   - A personal account's /me has mail: null and userPrincipalName = the e-mail address.
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
  b64url,
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
  splitScopes,
  tokenFaults,
} from './common.js'

/** The tenant id Microsoft uses for personal (MSA) accounts. */
export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad'
const OIDC = ['openid', 'profile', 'email', 'offline_access']

const DEFAULTS: FakeOptions = {
  clientId: randomUUID(),
  clientSecret: '',
  accessTokenTtlSeconds: 3599,
  refreshTokenTtlSeconds: 90 * 24 * 3600,
  codeTtlSeconds: 600,
  redirectUris: null,
  grantedScopes: null,
  tenant: 'organizations',
  user: {},
  knobs: {},
}

function workUser(over: Record<string, unknown>): Record<string, unknown> {
  return {
    id: randomUUID(),
    displayName: 'Adele Vance',
    givenName: 'Adele',
    surname: 'Vance',
    mail: 'AdeleV@contoso.example',
    userPrincipalName: 'AdeleV@contoso.example',
    tenantId: randomUUID(),
    personal: false,
    ...over,
  }
}

function personalUser(): Record<string, unknown> {
  return {
    id: hex(8),
    displayName: 'Pat Personal',
    givenName: 'Pat',
    surname: 'Personal',
    mail: null,
    userPrincipalName: 'pat.personal@outlook.example',
    tenantId: MSA_TENANT_ID,
    personal: true,
  }
}

/** "https://graph.microsoft.com/User.Read" → "User.Read"; OIDC scopes lower-case. */
function normalizeScope(s: string): string {
  const short = s.replace(/^https:\/\/graph\.microsoft\.com\//i, '')
  return OIDC.includes(short.toLowerCase()) ? short.toLowerCase() : short
}

function hasScope(grant: Grant, name: string): boolean {
  return grant.scope.some((s) => s.toLowerCase() === name.toLowerCase())
}

function graphDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z')
}

export async function startMicrosoftFake(options?: Partial<FakeOptions>): Promise<ProviderFake> {
  const opts = resolveOptions({ ...DEFAULTS, clientSecret: canary('microsoft', 'secret') }, options)
  const { app, ctx } = createFake('microsoft', { ...opts, user: workUser(opts.user) })

  // ---- identity-platform errors -------------------------------------------------------------------
  function aadError(reply: FastifyReply, status: number, error: string, code: number, message: string) {
    const trace = randomUUID()
    const corr = randomUUID()
    const ts = new Date(ctx.clock.now()).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')
    return reply.code(status).send({
      error,
      error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts}`,
      error_codes: [code],
      timestamp: ts,
      trace_id: trace,
      correlation_id: corr,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    })
  }

  // ---- authorize ------------------------------------------------------------------------------------
  app.get('/:tenant/oauth2/v2.0/authorize', async (req, reply) => {
    const { tenant } = req.params as { tenant: string }
    const q = queryOf(req)
    if (maybeReset(ctx, 'authorize', req, reply)) return reply
    const check = checkAuthorize(ctx, q, { scopeRequired: true })
    if (check.kind === 'page') {
      noteAuthorize(ctx, q, 'page', null)
      return errorPage(reply, check.status, 'Sign in to your account', `AADSTS50011: ${check.message}`)
    }
    const state = ctx.knobs.omitState ? undefined : q.state
    const back = (params: Record<string, string | undefined>) => {
      if (q.response_mode === 'form_post') {
        const inputs = Object.entries(params)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `<input type="hidden" name="${k}" value="${String(v).replace(/"/g, '&quot;')}"/>`)
          .join('')
        return reply
          .type('text/html; charset=utf-8')
          .send(`<html><body onload="document.forms[0].submit()"><form method="POST" action="${q.redirect_uri}">${inputs}</form></body></html>`)
      }
      return redirectWith(reply, q.redirect_uri ?? '', params)
    }
    if (check.kind === 'redirect') {
      noteAuthorize(ctx, q, check.error, null)
      return back({ error: check.error, error_description: `AADSTS900144: ${check.description}`, state })
    }
    const personal = ctx.knobs.personalAccount
    if (personal && tenant.toLowerCase() !== 'common' && tenant.toLowerCase() !== 'consumers') {
      // Shown on Microsoft's sign-in page; the app never hears back.
      noteAuthorize(ctx, q, 'page', null)
      return errorPage(
        reply,
        400,
        'Sorry, but we’re having trouble signing you in.',
        "AADSTS500200: User account 'pat.personal@outlook.example' is a personal Microsoft account. Personal Microsoft accounts are not supported for this application unless explicitly invited to an organization. Try signing out and signing back in with an organizational account.",
      )
    }
    if (ctx.knobs.deny) {
      noteAuthorize(ctx, q, 'access_denied', null)
      return back({ error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.', state })
    }
    const scope = applyDropScope(ctx, [...new Set(check.requestedScope.map(normalizeScope))])
    const user = personal ? personalUser() : ctx.user
    const code = ctx.store.issueCode(
      {
        clientId: q.client_id ?? '',
        redirectUri: check.redirectUri,
        challenge: check.challenge,
        scope,
        user,
        extra: { tenant, nonce: q.nonce ?? '' },
      },
      ctx.opts.codeTtlSeconds,
    )
    noteAuthorize(ctx, q, 'code', scope.join(' '))
    return back({ code, state, session_state: randomUUID() })
  })

  // ---- token ----------------------------------------------------------------------------------------
  function tokenResponse(grant: Grant, refreshToken: string | null) {
    const at = ctx.store.mintAccess(grant, ctx.opts.accessTokenTtlSeconds)
    const granted = grant.scope.filter((s) => s !== 'offline_access')
    const form = ctx.knobs.tokenScopeForm
    const oidc = new Set(['openid', 'profile', 'email'])
    const written = form === 'lowercase' ? granted.map((s) => s.toLowerCase()) : form === 'resource' ? granted.map((s) => (oidc.has(s) ? s : `https://graph.microsoft.com/${s}`)) : granted
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      ...(form !== 'omitted' && { scope: written.join(' ') }),
      expires_in: ctx.opts.accessTokenTtlSeconds,
      ext_expires_in: ctx.opts.accessTokenTtlSeconds,
      access_token: at.token,
    }
    if (refreshToken) body.refresh_token = refreshToken
    if (grant.scope.includes('openid')) {
      const now = Math.floor(ctx.clock.now() / 1000)
      const u = grant.user
      const idToken = fakeJwt({
        aud: grant.clientId,
        iss: `https://login.microsoftonline.com/${String(u.tenantId)}/v2.0`,
        iat: now,
        nbf: now,
        exp: now + 3600,
        name: u.displayName,
        oid: u.id,
        preferred_username: u.userPrincipalName,
        email: grant.scope.includes('email') ? (u.mail ?? u.userPrincipalName) : undefined,
        nonce: grant.extra.nonce || undefined,
        sub: b64url(String(u.id)),
        tid: u.tenantId,
        ver: '2.0',
      })
      ctx.issued.other.push(idToken)
      body.id_token = idToken
    }
    return body
  }

  app.post('/:tenant/oauth2/v2.0/token', async (req, reply) => {
    const f = await tokenFaults(ctx, req, reply, (s) => ({
      error: 'temporarily_unavailable',
      error_description: `AADSTS90033: A transient error has occurred. Please try again. (HTTP ${s})`,
      error_codes: [90033],
    }))
    if (f.handled) return reply
    const form = formOf(req)
    if (!form.grant_type) return aadError(reply, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.")
    // Client authentication: client_id + client_secret in the body (Basic is also accepted by Microsoft).
    const cred = clientCredentials(req, form)
    if (!cred.clientId) return aadError(reply, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.")
    if (cred.clientId !== ctx.opts.clientId) {
      return aadError(reply, 400, 'unauthorized_client', 700016, `Application with identifier '${cred.clientId}' was not found in the directory.`)
    }
    if (!cred.clientSecret) {
      return aadError(reply, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
    }
    if (cred.clientSecret !== ctx.opts.clientSecret || f.forcedError === 'invalid_client') {
      return aadError(reply, 401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${ctx.opts.clientId}'.`)
    }
    if (f.forcedError === 'consent_required') {
      return aadError(reply, 400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${ctx.opts.clientId}' named 'Video Meetings'. Send an interactive authorization request for this user and resource.`)
    }
    if (f.forcedError === 'invalid_grant') {
      return aadError(reply, 400, 'invalid_grant', 70000, 'The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.')
    }

    if (form.grant_type === 'authorization_code') {
      const r = ctx.store.redeemCode(form.code, { clientId: cred.clientId, redirectUri: form.redirect_uri, verifier: form.code_verifier })
      if (!r.ok) {
        switch (r.reason) {
          case 'reused':
            return aadError(reply, 400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.')
          case 'expired':
            return aadError(reply, 400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.')
          case 'redirect_mismatch':
            return aadError(reply, 400, 'invalid_grant', 70000, "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.")
          case 'pkce_missing':
          case 'pkce_mismatch':
            return aadError(reply, 400, 'invalid_grant', 50148, 'The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.')
          default:
            return aadError(reply, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.')
        }
      }
      const rt = r.grant.scope.includes('offline_access') ? ctx.store.mintRefresh(r.grant, ctx.opts.refreshTokenTtlSeconds).token : null
      return reply.send(tokenResponse(r.grant, rt))
    }
    if (form.grant_type === 'refresh_token') {
      if (!form.scope) return aadError(reply, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.")
      const r = ctx.store.lookupRefresh(form.refresh_token, cred.clientId)
      if (!r.ok) {
        if (r.reason === 'revoked') return aadError(reply, 400, 'invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.')
        if (r.reason === 'expired') return aadError(reply, 400, 'invalid_grant', 700082, 'The refresh token has expired due to inactivity.')
        return aadError(reply, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.')
      }
      const asked = [...new Set(splitScopes(form.scope).map(normalizeScope))]
      const missing = asked.filter((s) => s !== 'offline_access' && !hasScope(r.grant, s))
      if (missing.length > 0) {
        return aadError(reply, 400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${ctx.opts.clientId}' named 'Video Meetings'. Send an interactive authorization request for this user and resource.`)
      }
      // Rotation: a new refresh token every time; the old one is NOT revoked (Microsoft's rule).
      const rt = ctx.store.mintRefresh(r.grant, ctx.opts.refreshTokenTtlSeconds)
      return reply.send(tokenResponse(r.grant, rt.token))
    }
    return aadError(reply, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.grant_type}'.`)
  })

  // ---- Graph guard ----------------------------------------------------------------------------------
  function graphError(reply: FastifyReply, status: number, code: string, message: string) {
    const id = randomUUID()
    if (status === 401) {
      reply.header('www-authenticate', 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"')
    }
    return reply.code(status).send({
      error: {
        code,
        message,
        innerError: { date: new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': id, 'client-request-id': id },
      },
    })
  }

  async function guard(req: FastifyRequest, reply: FastifyReply, need: string | null, meetingApi: boolean): Promise<Grant | null> {
    if (meetingApi) {
      const handled = await apiFaults(ctx, req, reply, {
        status: (s) => ({
          error: {
            code: s === 429 ? 'TooManyRequests' : s === 503 ? 'serviceNotAvailable' : 'generalException',
            message: s === 429 ? 'Too many requests.' : s === 503 ? 'Service Unavailable' : 'General exception while processing.',
          },
        }),
      })
      if (handled) return null
    }
    const token = bearerOf(req)
    if (meetingApi && forcedInvalidToken(ctx)) {
      graphError(reply, 401, 'InvalidAuthenticationToken', 'Access token validation failure.')
      return null
    }
    const r = ctx.store.checkAccess(token)
    if (!r.ok) {
      const msg =
        r.reason === 'missing'
          ? 'Access token is empty.'
          : r.reason === 'expired'
            ? 'Lifetime validation failed, the token is expired.'
            : r.reason === 'revoked'
              ? 'Access token has expired or is not yet valid.'
              : 'IDX14100: JWT is not well formed, there are no dots (.).'
      graphError(reply, 401, 'InvalidAuthenticationToken', msg)
      return null
    }
    if (need && !hasScope(r.grant, need)) {
      if (need === 'User.Read') graphError(reply, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.')
      else graphError(reply, 403, 'Forbidden', '')
      return null
    }
    return r.grant
  }

  // ---- identity -------------------------------------------------------------------------------------
  app.get('/v1.0/me', async (req, reply) => {
    if (maybeReset(ctx, 'userinfo', req, reply)) return reply
    const grant = await guard(req, reply, 'User.Read', false)
    if (!grant) return reply
    if (ctx.knobs.userinfoFail) return graphError(reply, 500, 'generalException', 'General exception while processing.')
    const u = grant.user
    return reply.send({
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
      businessPhones: [],
      displayName: u.displayName,
      givenName: u.givenName,
      jobTitle: null,
      mail: ctx.knobs.mailNull ? null : u.mail,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: u.personal ? null : 'en-US',
      surname: u.surname,
      userPrincipalName: u.userPrincipalName,
      id: u.id,
    })
  })

  // ---- onlineMeetings -------------------------------------------------------------------------------
  async function meetingGuard(req: FastifyRequest, reply: FastifyReply): Promise<Grant | null> {
    const grant = await guard(req, reply, 'OnlineMeetings.ReadWrite', true)
    if (!grant) return null
    if (grant.user.personal) {
      graphError(reply, 403, 'AuthenticationError', 'Error authenticating with resource')
      return null
    }
    return grant
  }
  const notFound = (reply: FastifyReply) => graphError(reply, 404, 'NotFound', 'The specified meeting could not be found.')
  const badBody = (reply: FastifyReply, message = 'Invalid request body.') => graphError(reply, 400, 'BadRequest', message)

  app.post('/v1.0/me/onlineMeetings', async (req, reply) => {
    const grant = await meetingGuard(req, reply)
    if (!grant) return reply
    const body = jsonObjectOf(req)
    if (!body) return badBody(reply)
    if (body.externalId !== undefined) return badBody(reply, 'externalId can only be set with createOrGet.')
    const start = body.startDateTime !== undefined ? Date.parse(String(body.startDateTime)) : ctx.clock.now()
    const end = body.endDateTime !== undefined ? Date.parse(String(body.endDateTime)) : start + 3600_000
    if (Number.isNaN(start) || Number.isNaN(end)) return badBody(reply, 'Invalid startDateTime or endDateTime.')
    const meeting = newOnlineMeeting(ctx, grant, body, start, end)
    ctx.meetings.set(meeting.id, meeting)
    return reply.code(201).send(meeting)
  })

  app.post('/v1.0/me/onlineMeetings/createOrGet', async (req, reply) => {
    const grant = await meetingGuard(req, reply)
    if (!grant) return reply
    const body = jsonObjectOf(req)
    if (!body) return badBody(reply)
    if (typeof body.externalId !== 'string' || body.externalId === '') return badBody(reply, 'externalId is required.')
    const existing = [...ctx.meetings.values()].find(
      (m) => m.externalId === body.externalId && m.participants?.organizer?.identity?.user?.id === grant.user.id,
    )
    if (existing) return reply.code(200).send(existing)
    if (body.endDateTime !== undefined && body.startDateTime === undefined) return badBody(reply, 'endDateTime requires startDateTime.')
    const start = body.startDateTime !== undefined ? Date.parse(String(body.startDateTime)) : ctx.clock.now()
    const end = body.endDateTime !== undefined ? Date.parse(String(body.endDateTime)) : start + 3600_000
    if (Number.isNaN(start) || Number.isNaN(end)) return badBody(reply, 'Invalid startDateTime or endDateTime.')
    if (end < start) return badBody(reply, 'endDateTime must not be earlier than startDateTime.')
    // Only createOrGet's parameters count; anything else in the body (lobbyBypassSettings ...) is ignored.
    const params = { subject: body.subject, externalId: body.externalId, participants: body.participants }
    const meeting = newOnlineMeeting(ctx, grant, params, start, end)
    ctx.meetings.set(meeting.id, meeting)
    return reply.code(201).send(meeting)
  })

  app.get('/v1.0/me/onlineMeetings/:id', async (req, reply) => {
    const grant = await meetingGuard(req, reply)
    if (!grant) return reply
    const m = ctx.meetings.get((req.params as { id: string }).id)
    return m ? reply.send(m) : notFound(reply)
  })

  app.patch('/v1.0/me/onlineMeetings/:id', async (req, reply) => {
    const grant = await meetingGuard(req, reply)
    if (!grant) return reply
    const m = ctx.meetings.get((req.params as { id: string }).id)
    if (!m) return notFound(reply)
    const body = jsonObjectOf(req)
    if (!body) return badBody(reply)
    // Graph: changing the time always needs both startDateTime and endDateTime.
    if ((body.startDateTime === undefined) !== (body.endDateTime === undefined)) {
      return badBody(reply, 'Both startDateTime and endDateTime must be provided to change the meeting time.')
    }
    if (body.startDateTime !== undefined) {
      const start = Date.parse(String(body.startDateTime))
      const end = Date.parse(String(body.endDateTime))
      if (Number.isNaN(start) || Number.isNaN(end)) return badBody(reply, 'Invalid startDateTime or endDateTime.')
      m.startDateTime = graphDate(start)
      m.endDateTime = graphDate(end)
    }
    for (const key of ['subject', 'allowedPresenters', 'isEntryExitAnnounced', 'recordAutomatically', 'allowMeetingChat'] as const) {
      if (body[key] !== undefined) m[key] = body[key]
    }
    if (body.lobbyBypassSettings && typeof body.lobbyBypassSettings === 'object') {
      m.lobbyBypassSettings = { ...m.lobbyBypassSettings, ...body.lobbyBypassSettings }
    }
    if (body.participants?.attendees) m.participants = { ...m.participants, attendees: body.participants.attendees }
    return reply.send(m)
  })

  app.delete('/v1.0/me/onlineMeetings/:id', async (req, reply) => {
    const grant = await meetingGuard(req, reply)
    if (!grant) return reply
    if (!ctx.meetings.delete((req.params as { id: string }).id)) return notFound(reply)
    return reply.code(204).send()
  })

  const tenant = ctx.opts.tenant
  return finishFake(app, ctx, (url) => ({
    TEAMS_AUTHORIZE_URL: `${url}/${tenant}/oauth2/v2.0/authorize`,
    TEAMS_TOKEN_URL: `${url}/${tenant}/oauth2/v2.0/token`,
    TEAMS_REVOKE_URL: '',
    TEAMS_USERINFO_URL: `${url}/v1.0/me`,
    TEAMS_API_URL: `${url}/v1.0`,
    TEAMS_CLIENT_ID: ctx.opts.clientId,
    TEAMS_CLIENT_SECRET: ctx.opts.clientSecret,
    TEAMS_TENANT: tenant,
  }))
}

function newOnlineMeeting(ctx: FakeContext, grant: Grant, body: Record<string, any>, start: number, end: number): Record<string, any> {
  const u = grant.user
  const thread = `19:meeting_${b64url(hex(24)).slice(0, 40)}@thread.v2`
  const id = b64url(`1*${String(u.id)}*0**${thread}`)
  const conferenceId = digits(9)
  const context = encodeURIComponent(JSON.stringify({ Tid: u.tenantId, Oid: u.id }))
  return {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${String(u.id)}')/onlineMeetings/$entity`,
    id,
    creationDateTime: graphDate(ctx.clock.now()),
    startDateTime: graphDate(start),
    endDateTime: graphDate(end),
    joinWebUrl: `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(thread)}/0?context=${context}`,
    meetingCode: digits(12),
    subject: typeof body.subject === 'string' ? body.subject : null,
    isBroadcast: false,
    autoAdmittedUsers: 'everyoneInCompany',
    outerMeetingAutoAdmittedUsers: null,
    isEntryExitAnnounced: true,
    allowedPresenters: body.allowedPresenters ?? 'everyone',
    allowMeetingChat: body.allowMeetingChat ?? 'enabled',
    allowTeamworkReactions: true,
    recordAutomatically: body.recordAutomatically ?? false,
    videoTeleconferenceId: `${digits(10)}@teams.example`,
    externalId: body.externalId ?? null,
    meetingOptionsWebUrl: `https://teams.microsoft.com/meetingOptions/?organizerId=${String(u.id)}&tenantId=${String(u.tenantId)}`,
    joinMeetingIdSettings: { isPasscodeRequired: true, joinMeetingId: digits(12), passcode: hex(3) },
    lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: false, ...(body.lobbyBypassSettings ?? {}) },
    audioConferencing: {
      conferenceId,
      tollNumber: '+1 323-849-4874',
      tollFreeNumber: '+1 855-555-0100',
      tollNumbers: ['+1 323-849-4874', '+49 69 365 0000'],
      tollFreeNumbers: ['+1 855-555-0100'],
      dialinUrl: `https://dialin.teams.microsoft.com/${randomUUID()}?id=${conferenceId}`,
    },
    chatInfo: { threadId: thread, messageId: '0', replyChainMessageId: null },
    participants: {
      organizer: {
        upn: u.userPrincipalName,
        role: 'presenter',
        identity: { user: { id: u.id, displayName: null, tenantId: u.tenantId, identityProvider: 'AAD' } },
      },
      attendees: body.participants?.attendees ?? [],
    },
    joinInformation: { content: 'data:text/html,%3Cp%3EJoin%20Microsoft%20Teams%20Meeting%3C%2Fp%3E', contentType: 'html' },
  }
}
