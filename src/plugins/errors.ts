import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { MessageKey } from '../i18n/index.js'
import { CsrfError } from './csrf.js'

interface ErrorPage {
  status: number
  title: MessageKey
  text: MessageKey
}

function classify(error: unknown): ErrorPage {
  if (error instanceof CsrfError) return { status: 403, title: 'page.forbidden.title', text: 'page.csrf.text' }
  const status = typeof (error as FastifyError)?.statusCode === 'number' ? (error as FastifyError).statusCode! : 500
  if (status === 403) return { status, title: 'page.forbidden.title', text: 'page.forbidden.text' }
  if (status === 404) return { status, title: 'page.notFound.title', text: 'page.notFound.text' }
  if (status === 429) return { status, title: 'page.tooMany.title', text: 'page.tooMany.text' }
  if (status >= 400 && status < 500) return { status, title: 'page.badRequest.title', text: 'page.badRequest.text' }
  return { status: 500, title: 'page.error.title', text: 'page.error.text' }
}

export async function renderErrorPage(reply: FastifyReply, page: ErrorPage): Promise<FastifyReply> {
  try {
    return await reply.render('pages/error', { title: reply.request.t(page.title), text: reply.request.t(page.text) }, { status: page.status })
  } catch (renderError) {
    reply.log.error({ err: renderError }, 'could not render the error page')
    return reply.code(page.status).type('text/plain; charset=utf-8').send(reply.request.t(page.title))
  }
}

/** 404 and error pages in the layout and the user's language; details of 5xx go to the log, never the page. */
export const errorsPlugin = fp(
  async function errors(app: FastifyInstance) {
    app.setErrorHandler(async (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const page = classify(error)
      if (page.status >= 500) request.log.error({ err: error }, 'request failed')
      else request.log.info({ status: page.status, reason: (error as Error)?.message }, 'request refused')
      if (reply.sent) return
      return renderErrorPage(reply, page)
    })
    app.setNotFoundHandler(async (_request, reply) => renderErrorPage(reply, { status: 404, title: 'page.notFound.title', text: 'page.notFound.text' }))
  },
  { name: 'errors', dependencies: ['pages'] },
)
