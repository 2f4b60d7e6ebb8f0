/** The Sandbox's HTML pages: the sign-in and consent page of its authorization endpoint, and where a join link lands. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError, NotFoundError } from '../errors.js'
import { CONTROL_CHARACTERS, isEmail } from '../forms.js'
import type { Language } from '../i18n/languages.js'
import { checkAuthorize, type AuthorizeRequest } from './authorize-request.js'
import type { SandboxClient } from './endpoints.js'
import type { SandboxStore } from './storage.js'
import { fill, sandboxText } from './text.js'

export interface SandboxContext {
  store: SandboxStore
  client: SandboxClient
  /** The `iss` sent with every authorization response (RFC 9207). */
  issuer: string
  joinUrl(id: string): string
}

export async function sandboxPages(app: FastifyInstance, { store, client, issuer }: SandboxContext): Promise<void> {
  function backTo(redirectUri: string, params: Record<string, string | undefined>): string {
    const url = new URL(redirectUri)
    for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value)
    url.searchParams.set('iss', issuer)
    return url.href
  }

  function invalidRequestPage(request: FastifyRequest, reply: FastifyReply, reason: 'invalidClient' | 'invalidRedirect') {
    const s = sandboxText(request.language)
    return reply.render('pages/error', { title: s.invalidTitle, text: s[reason] }, { status: 400 })
  }

  function consentPage(
    request: FastifyRequest,
    reply: FastifyReply,
    authorization: AuthorizeRequest,
    form: { values: Record<string, string>; granted: readonly string[]; errors: Record<string, string>; formError?: string },
    status?: number,
  ) {
    const s = sandboxText(request.language)
    return reply.render(
      'pages/sandbox/authorize',
      {
        title: s.authorizeTitle,
        s,
        action: '/sandbox/oauth/authorize',
        hidden: Object.entries(authorization.params).map(([name, value]) => ({ name, value })),
        scopes: authorization.scopes.map((scope) => ({ value: scope, label: s[`scope_${scope}`], checked: form.granted.includes(scope) })),
        values: form.values,
        errors: form.errors,
        ...(form.formError && { formError: form.formError }),
      },
      status ? { status } : {},
    )
  }

  app.get('/sandbox/oauth/authorize', async (request, reply) => {
    const check = checkAuthorize(request.query, client)
    if (check.kind === 'page') return invalidRequestPage(request, reply, check.reason)
    if (check.kind === 'redirect') {
      return reply.redirect(backTo(check.redirectUri, { error: check.error, error_description: check.description, state: check.state }), 303)
    }
    const values = { email: request.user?.email ?? '', name: request.user?.name ?? '' }
    return consentPage(request, reply, check.request, { values, granted: check.request.scopes, errors: {} })
  })

  app.post('/sandbox/oauth/authorize', async (request, reply) => {
    const check = checkAuthorize(request.body, client)
    if (check.kind === 'page') return invalidRequestPage(request, reply, check.reason)
    if (check.kind === 'redirect') {
      return reply.redirect(backTo(check.redirectUri, { error: check.error, error_description: check.description, state: check.state }), 303)
    }
    const authorization = check.request
    const body = request.body as Record<string, unknown>
    if (body.decision === 'deny') {
      return reply.redirect(backTo(authorization.redirectUri, { error: 'access_denied', error_description: 'the person denied the request', state: authorization.state }), 303)
    }
    if (body.decision !== 'allow') throw new HttpError(400, 'decision must be allow or deny')

    const s = sandboxText(request.language)
    const errors: Record<string, string> = {}
    const read = (name: 'email' | 'name', max: number): string => {
      const raw = body[name]
      const value = typeof raw === 'string' ? raw.trim() : ''
      if (!value) errors[name] = s.errorRequired
      else if (CONTROL_CHARACTERS.test(value)) errors[name] = s.errorControlChars
      else if (value.length > max) errors[name] = fill(s.errorTooLong, { max })
      return value
    }
    const email = read('email', 254).toLowerCase()
    const name = read('name', 100)
    if (email && !errors.email && !isEmail(email)) errors.email = s.errorEmail
    const ticked = [body.grant].flat().filter((v): v is string => typeof v === 'string')
    const granted = authorization.scopes.filter((scope) => ticked.includes(scope))
    const values = { email, name }
    if (!granted.length) return consentPage(request, reply, authorization, { values, granted, errors, formError: s.errorNoScope }, 422)
    if (Object.keys(errors).length) return consentPage(request, reply, authorization, { values, granted, errors, formError: s.errorForm }, 422)

    const account = store.signIn(email, name)
    const code = store.issueCode({
      clientId: client.id,
      redirectUri: authorization.redirectUri,
      codeChallenge: authorization.codeChallenge,
      scope: granted.join(' '),
      accountId: account.id,
    })
    return reply.redirect(backTo(authorization.redirectUri, { code, state: authorization.state }), 303)
  })

  app.get('/sandbox/meet/:id', async (request, reply) => {
    const { id } = request.params as { id: string }
    const meeting = store.meeting(id)
    if (!meeting) throw new NotFoundError('No such sandbox meeting')
    const s = sandboxText(request.language)
    const when = (iso: string) => formatTime(iso, meeting.time_zone, request.language)
    return reply.render('pages/sandbox/meeting', {
      title: fill(s.meetingTitle, { title: meeting.title }),
      s,
      meeting: {
        start: meeting.start_at,
        end: meeting.end_at,
        startText: when(meeting.start_at),
        endText: when(meeting.end_at),
        timeZone: meeting.time_zone,
        waitingRoom: meeting.waiting_room === 1,
      },
    })
  })
}

function formatTime(iso: string, timeZone: string, language: Language): string {
  return new Intl.DateTimeFormat(language === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'full', timeStyle: 'short', timeZone }).format(new Date(iso))
}
