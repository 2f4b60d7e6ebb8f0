/**
 * The Sandbox's JSON endpoints: token and revocation (OAuth 2.0, RFC 7009) and the meetings API. Registered as
 * an encapsulated plugin: its JSON error handler and no-store hook stay inside.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SandboxScope } from './authorize-request.js'
import { badRequest, SandboxError, type Outcome } from './errors.js'
import { fieldsOf, meetingJson, readMeeting, readRequestId } from './meetings.js'
import type { SandboxContext } from './pages.js'
import { sameSecret } from './secrets.js'
import type { AccountRow, TokenResponse } from './storage.js'

export async function sandboxApi(api: FastifyInstance, { store, client, joinUrl }: SandboxContext): Promise<void> {
  api.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store')
    reply.header('pragma', 'no-cache')
    return payload
  })
  api.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof SandboxError) {
      request.log.info({ status: error.status, reason: error.error }, 'sandbox request refused')
      return reply.code(error.status).headers(error.headers).send({ error: error.error, ...(error.description && { error_description: error.description }) })
    }
    const status = typeof (error as FastifyError)?.statusCode === 'number' ? (error as FastifyError).statusCode! : 500
    if (status >= 400 && status < 500) {
      return reply.code(400).send({ error: 'invalid_request', error_description: (error as Error).message })
    }
    request.log.error({ err: error }, 'sandbox request failed')
    return reply.code(500).send({ error: 'server_error' })
  })

  /** The token and revocation endpoints take form-urlencoded bodies with each parameter at most once. */
  function formOf(request: FastifyRequest): Record<string, string> {
    if (!String(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw badRequest('the body must be application/x-www-form-urlencoded')
    }
    const body = (request.body ?? {}) as Record<string, unknown>
    const form: Record<string, string> = {}
    for (const [name, value] of Object.entries(body)) {
      if (typeof value !== 'string') throw badRequest(`repeated parameter: ${name}`)
      form[name] = value
    }
    return form
  }

  /** client_secret_post or HTTP Basic (RFC 6749 2.3.1), never both; compared in constant time. */
  function authenticateClient(request: FastifyRequest, form: Record<string, string>): string {
    const unauthorized = (description: string) => new SandboxError(401, 'invalid_client', description, { 'www-authenticate': 'Basic realm="Sandbox"' })
    const header = request.headers.authorization
    let id: string | undefined
    let secret: string | undefined
    if (header && /^basic /i.test(header)) {
      if (form.client_secret !== undefined) throw badRequest('use one client authentication method, not two')
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) throw unauthorized('malformed Basic credentials')
      try {
        const formDecode = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '))
        id = formDecode(decoded.slice(0, colon))
        secret = formDecode(decoded.slice(colon + 1))
      } catch {
        throw unauthorized('malformed Basic credentials')
      }
      if (form.client_id !== undefined && form.client_id !== id) throw unauthorized('client_id does not match the credentials')
    } else {
      id = form.client_id
      secret = form.client_secret
    }
    if (id === undefined || secret === undefined) throw unauthorized('client authentication is required')
    const idOk = sameSecret(id, client.id)
    const secretOk = sameSecret(secret, client.secret)
    if (!(idOk && secretOk)) throw unauthorized('unknown client or wrong secret')
    return client.id
  }

  api.post('/sandbox/oauth/token', { config: { csrf: false } }, async (request, reply) => {
    const form = formOf(request)
    const clientId = authenticateClient(request, form)
    let outcome: Outcome<TokenResponse>
    switch (form.grant_type) {
      case 'authorization_code': {
        if (!form.code) throw badRequest('code is required')
        if (!form.code_verifier) throw badRequest('code_verifier is required (PKCE)')
        outcome = store.redeemCode(form.code, { clientId, redirectUri: form.redirect_uri, verifier: form.code_verifier })
        break
      }
      case 'refresh_token': {
        if (!form.refresh_token) throw badRequest('refresh_token is required')
        const scope = form.scope === undefined ? null : form.scope.split(' ').filter(Boolean)
        outcome = store.refresh(form.refresh_token, { clientId, scope })
        break
      }
      case undefined:
      case '':
        throw badRequest('grant_type is required')
      default:
        throw new SandboxError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token')
    }
    if (!outcome.ok) throw outcome.error
    return reply.send(outcome.value)
  })

  api.post('/sandbox/oauth/revoke', { config: { csrf: false } }, async (request, reply) => {
    const form = formOf(request)
    const clientId = authenticateClient(request, form)
    if (!form.token) throw badRequest('token is required')
    // token_type_hint is only a hint (RFC 7009 2.1): every kind is looked up anyway.
    store.revoke(form.token, clientId)
    return reply.send({})
  })

  /** The Bearer token's account, if the token is live and carries `scope`. Never read from the query string. */
  function authenticate(request: FastifyRequest, scope: SandboxScope): AccountRow {
    const invalid = (description: string) => new SandboxError(401, 'invalid_token', description, { 'www-authenticate': 'Bearer realm="Sandbox", error="invalid_token"' })
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')
    if (!match) throw invalid('a Bearer access token is required')
    const grant = store.accessGrant(match[1]!)
    if (!grant) throw invalid('the access token is unknown, expired or revoked')
    if (!grant.scope.includes(scope)) {
      throw new SandboxError(403, 'insufficient_scope', `this request needs the ${scope} scope`, {
        'www-authenticate': `Bearer realm="Sandbox", error="insufficient_scope", scope="${scope}"`,
      })
    }
    const account = store.account(grant.accountId)
    if (!account) throw invalid('the account no longer exists')
    return account
  }

  const notFound = () => new SandboxError(404, 'not_found', 'no such meeting')

  api.get('/sandbox/api/me', async (request, reply) => {
    const account = authenticate(request, 'profile')
    return reply.send({ id: account.id, name: account.name, email: account.email })
  })

  api.post('/sandbox/api/meetings', { config: { csrf: false } }, async (request, reply) => {
    const account = authenticate(request, 'meetings')
    const fields = readMeeting(request.body, null)
    const requestId = readRequestId(request.body)
    const result = store.createMeeting(account.id, fields, requestId, joinUrl)
    if (result === 'conflict') throw new SandboxError(409, 'conflict', 'the meeting created with this requestId has been deleted')
    return reply.code(result.created ? 201 : 200).send(meetingJson(result.row))
  })

  api.get('/sandbox/api/meetings/:id', async (request, reply) => {
    const account = authenticate(request, 'meetings')
    const meeting = store.meeting((request.params as { id: string }).id, account.id)
    if (!meeting) throw notFound()
    return reply.send(meetingJson(meeting))
  })

  api.patch('/sandbox/api/meetings/:id', { config: { csrf: false } }, async (request, reply) => {
    const account = authenticate(request, 'meetings')
    const meeting = store.meeting((request.params as { id: string }).id, account.id)
    if (!meeting) throw notFound()
    const updated = store.updateMeeting(meeting.id, readMeeting(request.body, fieldsOf(meeting)))
    if (!updated || updated.deleted_at !== null) throw notFound()
    return reply.send(meetingJson(updated))
  })

  api.delete('/sandbox/api/meetings/:id', { config: { csrf: false } }, async (request, reply) => {
    const account = authenticate(request, 'meetings')
    const meeting = store.meeting((request.params as { id: string }).id, account.id)
    if (!meeting) throw notFound()
    store.deleteMeeting(meeting.id)
    return reply.code(204).send()
  })
}
