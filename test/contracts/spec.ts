/**
 * Contract checks against the providers' published specs (fixtures/*.json, made by tools/extract.mjs).
 *
 * A fixture lists operations (method, path template, path and query parameters, request body schema, response
 * schemas by status) and the JSON Schemas they reference under #/definitions. `Spec` matches a request or a
 * response to its operation and returns the spec violations as readable strings ([] = conforms).
 *
 * Validation is ajv (draft-07, with OpenAPI's `nullable`) and ajv-formats. Query and path values arrive as
 * strings, so they are checked by a second instance that coerces them to the declared type first.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { RecordedRequest } from '../fakes/common.js'

// ajv-formats is CommonJS: its default export arrives wrapped under tsx/NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv

const here = dirname(fileURLToPath(import.meta.url))

export interface Parameter {
  name: string
  in: 'path' | 'query'
  required: boolean
  schema: Record<string, unknown>
}
export interface Operation {
  id: string
  method: string
  path: string
  parameters: Parameter[]
  requestBody: { required: boolean; contentTypes?: string[]; schema: Record<string, unknown> | null } | null
  responses: Record<string, Record<string, unknown> | null>
}
export interface Fixture {
  _source: Record<string, unknown>
  basePath: string
  operations: Operation[]
  definitions: Record<string, Record<string, unknown>>
}

export function loadFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(here, 'fixtures', name), 'utf8')) as Fixture
}

const INT_FORMATS: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
}

function newAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: coerce, validateFormats: true, discriminator: true })
  addFormats(ajv)
  for (const [name, [min, max]] of Object.entries(INT_FORMATS)) ajv.addFormat(name, { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= min && n <= max })
  // Formats the specs name without a standard meaning: accepted as they are.
  for (const name of ['double', 'float', 'uint32', 'byte', 'binary', 'password']) ajv.addFormat(name, true)
  // OpenAPI 3.0's `nullable` is rewritten to a null alternative before compiling (nullableToTypes).
  return ajv
}

/** OpenAPI 3.0 `nullable: true` → JSON Schema: a type list with null (ajv's own support needs `type` beside it). */
function nullableToTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableToTypes)
  if (!node || typeof node !== 'object') return node
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) o[k] = nullableToTypes(v)
  if (o.nullable === true) {
    delete o.nullable
    return { anyOf: [o, { type: 'null' }] }
  }
  return o
}

/** A copy without `required` lists: what a PATCH (partial update) body is checked against. */
function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired)
  if (!node || typeof node !== 'object') return node
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node)) if (!(k === 'required' && Array.isArray(v))) o[k] = withoutRequired(v)
  return o
}

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map((e) => {
    const at = `${where}${e.instancePath || ''}`
    const extra = e.keyword === 'enum' ? ` ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}` : e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty?: string }).additionalProperty})` : ''
    return `${at} ${e.message ?? e.keyword}${extra}`
  })
}

export class Spec {
  readonly fixture: Fixture
  private readonly strict: Ajv
  private readonly partial: Ajv
  private readonly coercing: Ajv
  private readonly cache = new Map<string, ValidateFunction>()

  constructor(fixture: Fixture | string) {
    this.fixture = typeof fixture === 'string' ? loadFixture(fixture) : fixture
    this.strict = newAjv(false)
    this.partial = newAjv(false)
    this.coercing = newAjv(true)
    const defs = nullableToTypes(this.fixture.definitions) as Record<string, unknown>
    this.strict.addSchema({ $id: 'spec', definitions: defs })
    this.partial.addSchema({ $id: 'spec', definitions: withoutRequired(defs) })
    this.coercing.addSchema({ $id: 'spec', definitions: defs })
  }

  private compile(ajv: Ajv, key: string, schema: unknown): ValidateFunction {
    const id = `${key}#${ajv === this.strict ? 's' : ajv === this.partial ? 'p' : 'c'}`
    let v = this.cache.get(id)
    if (!v) {
      const rebased = JSON.parse(JSON.stringify(nullableToTypes(schema)).replaceAll('"#/definitions/', '"spec#/definitions/'))
      v = ajv.compile(ajv === this.partial ? (withoutRequired(rebased) as object) : rebased)
      this.cache.set(id, v)
    }
    return v
  }

  /** Validates a value against a schema of this spec (a definition name, or a schema). */
  validate(schema: string | Record<string, unknown>, value: unknown, where = 'body', opts: { partial?: boolean } = {}): string[] {
    const s = typeof schema === 'string' ? { $ref: `#/definitions/${schema}` } : schema
    const v = this.compile(opts.partial ? this.partial : this.strict, JSON.stringify(s), s)
    return v(value) ? [] : describe(v.errors, where)
  }

  /** The operation for METHOD and a path below the spec's basePath, with the path parameters it binds. */
  operation(method: string, path: string): { op: Operation; params: Record<string, string> } | null {
    const rel = path.startsWith(this.fixture.basePath) ? path.slice(this.fixture.basePath.length) : path
    const candidates = this.fixture.operations
      .filter((op) => op.method === method.toUpperCase())
      // literal segments first: /me/onlineMeetings/createOrGet before /me/onlineMeetings/{id}
      .sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0))
    for (const op of candidates) {
      const names: string[] = []
      const re = new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}|\{([^}]+)\}/g, (_m, a, b) => (names.push(a ?? b), '([^/]+)'))}$`)
      const m = re.exec(rel)
      if (m) return { op, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')])) }
    }
    return null
  }

  /** Every way a recorded request departs from the spec: method and path, parameters, content type, body. */
  checkRequest(req: Pick<RecordedRequest, 'method' | 'path' | 'query' | 'headers' | 'body'>): string[] {
    const found = this.operation(req.method, req.path)
    if (!found) return [`${req.method} ${req.path}: no such operation in the spec`]
    const { op, params } = found
    const errors: string[] = []
    const at = `${op.method} ${op.path}`
    for (const p of op.parameters.filter((x) => x.in === 'path')) {
      const v = params[p.name]
      if (v === undefined) errors.push(`${at}: path parameter ${p.name} missing`)
      else errors.push(...this.param(p, v, `${at} path ${p.name}`))
    }
    const declared = new Map(op.parameters.filter((x) => x.in === 'query').map((x) => [x.name, x]))
    for (const [name, value] of Object.entries(req.query)) {
      const p = declared.get(name)
      if (!p) errors.push(`${at}: query parameter ${name} is not in the spec`)
      else errors.push(...this.param(p, value, `${at} query ${name}`))
    }
    for (const p of declared.values()) if (p.required && req.query[p.name] === undefined) errors.push(`${at}: required query parameter ${p.name} missing`)
    const hasBody = req.body !== undefined && req.body !== '' && req.body !== null
    if (!op.requestBody) {
      if (hasBody) errors.push(`${at}: the spec defines no request body, one was sent`)
      return errors
    }
    if (!hasBody) {
      if (op.requestBody.required) errors.push(`${at}: the spec requires a request body, none was sent`)
      return errors
    }
    const type = String(req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? ''
    if (op.requestBody.contentTypes && !op.requestBody.contentTypes.some((c) => c.split(';')[0] === type)) {
      errors.push(`${at}: content-type ${type || '(none)'} is not one the spec accepts (${op.requestBody.contentTypes.join(', ')})`)
    }
    if (op.requestBody.schema) {
      const partial = op.requestBody.schema['x-partial'] === true
      errors.push(...this.validate(op.requestBody.schema, req.body, `${at} body`, { partial }))
      errors.push(...this.undeclared(op.requestBody.schema, req.body, `${at} body`))
    }
    return errors
  }

  /**
   * Fields we send that the spec does not declare (a misspelt or invented field passes JSON Schema silently when
   * the spec leaves additionalProperties open). Objects with additionalProperties, or OData open types, take any.
   */
  undeclared(schema: Record<string, unknown>, value: unknown, where: string): string[] {
    if (!value || typeof value !== 'object') return []
    if (Array.isArray(value)) {
      const items = this.declared(schema).items
      return items ? value.flatMap((v, i) => this.undeclared(items, v, `${where}/${i}`)) : []
    }
    const d = this.declared(schema)
    if (d.open) return []
    const out: string[] = []
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = d.props.get(k)
      if (!sub) out.push(`${where} has ${k}, which the spec does not declare`)
      else out.push(...sub.flatMap((s) => this.undeclared(s, v, `${where}/${k}`)))
    }
    return out
  }

  /** The properties a schema declares through $ref, allOf, anyOf and oneOf. */
  private declared(schema: Record<string, unknown>, seen = new Set<string>()): { props: Map<string, Record<string, unknown>[]>; open: boolean; items?: Record<string, unknown> } {
    const props = new Map<string, Record<string, unknown>[]>()
    let open = false
    let items: Record<string, unknown> | undefined
    let typed = false
    const visit = (node: Record<string, unknown> | undefined) => {
      if (!node || typeof node !== 'object') return
      const ref = node.$ref
      if (typeof ref === 'string') {
        if (seen.has(ref)) return
        seen.add(ref)
        visit(this.fixture.definitions[ref.replace('#/definitions/', '')])
      }
      for (const key of ['allOf', 'anyOf', 'oneOf'] as const) for (const sub of (node[key] as Record<string, unknown>[] | undefined) ?? []) visit(sub)
      if (node.properties && typeof node.properties === 'object') {
        typed = true
        for (const [k, v] of Object.entries(node.properties as Record<string, Record<string, unknown>>)) props.set(k, [...(props.get(k) ?? []), v])
      }
      if (node.additionalProperties !== undefined && node.additionalProperties !== false) open = true
      if (node.items && typeof node.items === 'object') items = node.items as Record<string, unknown>
    }
    visit(schema)
    // A schema that says nothing about its fields (no properties anywhere) is not one to hold fields against.
    return { props, open: open || !typed, ...(items && { items }) }
  }

  private param(p: Parameter, value: string, where: string): string[] {
    const holder = { v: value }
    const v = this.compile(this.coercing, `param:${JSON.stringify(p.schema)}`, { type: 'object', properties: { v: p.schema } })
    return v(holder) ? [] : describe(v.errors, where).map((e) => e.replace(/\/v\b/, ''))
  }

  /** Every way an answer departs from the spec: an undeclared status, a body against the status's schema. */
  checkResponse(method: string, path: string, status: number, body: unknown): string[] {
    const found = this.operation(method, path)
    if (!found) return [`${method} ${path}: no such operation in the spec`]
    const { op } = found
    const at = `${op.method} ${op.path} → ${status}`
    if (!(String(status) in op.responses) && !(status >= 400 && "default" in op.responses)) {
      return [`${at}: status ${status} is not among the spec's answers (${Object.keys(op.responses).join(', ')})`]
    }
    const schema = String(status) in op.responses ? (op.responses[String(status)] ?? null) : (op.responses.default ?? null)
    if (!schema) {
      if (status >= 200 && status < 300 && body !== null && body !== undefined && body !== '') return [`${at}: the spec defines no body for this answer, one came`]
      return []
    }
    if (body === null || body === undefined || body === '') return [`${at}: the spec defines a body, none came`]
    return this.validate(schema, body, `${at} body`)
  }
}

export interface Exchange {
  method: string
  url: URL
  requestBody: unknown
  status: number
  headers: Headers
  body: unknown
}

/**
 * A fetch for createApiClient's `fetch` option that records every answer (the fakes keep only requests):
 * the test talks to the fake over HTTP itself and keeps what came back.
 */
export function recordingFetch(): { fetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = []
  const f: typeof fetch = async (input, init) => {
    const res = await fetch(input, init)
    const text = await res.clone().text()
    let body: unknown = text
    try {
      body = text ? JSON.parse(text) : null
    } catch {
      /* not JSON: kept as text */
    }
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    let requestBody: unknown
    try {
      requestBody = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined
    } catch {
      requestBody = init?.body
    }
    exchanges.push({ method: (init?.method ?? 'GET').toUpperCase(), url, requestBody, status: res.status, headers: res.headers, body })
    return res
  }
  return { fetch: f, exchanges }
}
