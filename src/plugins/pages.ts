import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Eta } from 'eta'
import view from '@fastify/view'
import type { Flash } from '../types.js'
import { csrfToken, CSRF_FIELD } from './csrf.js'
import { compress, MIN_COMPRESS_BYTES, preferredEncoding } from './compression.js'
import { viewsDir } from '../paths.js'
import { reasonText } from '../providers/reason.js'
import { mailReasonText } from '../mail/reason.js'

export interface RenderOptions {
  status?: number
  /** The partial an htmx request gets instead of the whole page: the same file the page includes. */
  partial?: string
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page, or its partial for htmx requests (see isPartial). */
    render(template: string, data?: Record<string, unknown>, options?: RenderOptions): Promise<FastifyReply>
    /**
     * The one way a form comes back with its problems: the same page, 422, what was typed kept and each error
     * next to its field (`errors` by field name; the form partials show them and the error summary).
     */
    invalid(template: string, data: { values: Record<string, unknown>; errors: Record<string, string> } & Record<string, unknown>, options?: Omit<RenderOptions, 'status'>): Promise<FastifyReply>
  }
  interface FastifyRequest {
    /** Sets a one-time message shown on the next page (after a 303). */
    flash(kind: Flash['kind'], text: string): void
  }
}

/**
 * The one place that decides "partial or page". A swap request from htmx gets the partial; boosted navigation
 * and history restoration need the whole page, since they replace the body.
 */
export function isPartial(request: FastifyRequest): boolean {
  return (
    request.headers['hx-request'] === 'true' &&
    request.headers['hx-boosted'] !== 'true' &&
    request.headers['hx-history-restore-request'] !== 'true'
  )
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>()

/**
 * A shared Intl.DateTimeFormat for this language and these options (time zone included), made once. Making
 * one costs about 150 µs and 25 KB of native (ICU) memory that only a full garbage collection gives back, so
 * a template that makes its own on every render is slow and makes the process grow by hundreds of MB under
 * load. Templates get it as `it.dateTimeFormat(it.lang, { dateStyle: 'medium', timeZone: zone })`.
 */
export function dateTimeFormat(language: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${language}|${JSON.stringify(options)}`
  let format = dateTimeFormats.get(key)
  if (!format) {
    // Bounded by languages × time zones × the styles templates use; a guard all the same.
    if (dateTimeFormats.size >= 2000) dateTimeFormats.clear()
    format = new Intl.DateTimeFormat(language, options)
    dateTimeFormats.set(key, format)
  }
  return format
}

export interface PagesOptions {
  cacheTemplates: boolean
  /** Eta's file reader, replaced in the single executable where templates are embedded. */
  readTemplate?: (file: string) => string
}

export const pagesPlugin = fp(
  async function pages(app: FastifyInstance, options: PagesOptions) {
    const eta = new Eta({ views: viewsDir, cache: options.cacheTemplates, autoEscape: true, autoTrim: [false, 'nl'] })
    if (options.readTemplate) eta.readFile = options.readTemplate
    await app.register(view, {
      engine: { eta },
      root: viewsDir,
      production: options.cacheTemplates,
    })

    app.decorateRequest('flash', function (this: FastifyRequest, kind: Flash['kind'], text: string) {
      this.session.flash = { kind, text }
    })

    app.decorateReply(
      'render',
      async function (this: FastifyReply, template: string, data: Record<string, unknown> = {}, options: RenderOptions = {}) {
        const request = this.request
        const partial = options.partial && isPartial(request)
        const flash = request.session?.flash
        if (flash) delete request.session.flash
        const locals = {
          t: request.t,
          lang: request.language,
          user: request.user,
          csrf: csrfToken(request),
          csrfField: CSRF_FIELD,
          asset: app.asset,
          dateTimeFormat,
          // A stored provider-failure reason in the reader's words: it.reasonText(it.t, stored, it.lang).
          reasonText,
          // A stored mail-failure reason (outbox.last_error) in the reader's words: it.mailReasonText(it.t, stored, it.lang).
          mailReasonText,
          path: request.url.split('?', 1)[0],
          flash,
          errors: {},
          values: {},
          ...data,
        }
        // The answer depends on both: htmx gets the partial, and it is compressed when the browser can take it.
        this.header('vary', 'HX-Request, Accept-Encoding')
        this.type('text/html; charset=utf-8')
        if (options.status) this.code(options.status)
        const html = await this.viewAsync(partial ? options.partial! : template, locals)
        const encoding = html.length >= MIN_COMPRESS_BYTES ? preferredEncoding(request.headers['accept-encoding']) : null
        if (!encoding) return this.send(html)
        return this.header('content-encoding', encoding).send(compress(html, encoding))
      },
    )
    app.decorateReply('invalid', function (this: FastifyReply, template: string, data: Record<string, unknown>, options: Omit<RenderOptions, 'status'> = {}) {
      return this.render(template, data, { ...options, status: 422 })
    })
  },
  { name: 'pages', dependencies: ['@fastify/session', 'assets', 'i18n'] },
)
