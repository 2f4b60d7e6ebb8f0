#!/usr/bin/env node
/**
 * Trims the providers' official specs to the operations and schemas the adapters use and writes them, in one
 * common shape, to test/contracts/fixtures/<provider>.json. Run by hand when a spec is refreshed:
 *
 *   node test/contracts/tools/extract.mjs <mirrors-dir>
 *
 * <mirrors-dir> holds bare clones named owner+name/repo (zoom/api, webex/webex-openapi-specs,
 * microsoftgraph/msgraph-metadata); the Google fixture is made from google-calendar-v3.discovery.json (a trimmed
 * copy of the discovery document, see its _source) by discovery-to-fixture below.
 *
 * Common shape: { _source, basePath, operations: [{ id, method, path, parameters: [{ name, in, required, schema }],
 * requestBody: { required, schema } | null, responses: { <status>: schema | null } }], definitions: { name: JSON Schema } }.
 * Every $ref points at #/definitions/<name>. Schemas are JSON Schema draft-07 plus OpenAPI's `nullable`.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'fixtures')
const mirrors = process.argv[2] ?? '/work/.mirror'

function git(repo, ...args) {
  return execFileSync('git', ['-C', join(mirrors, repo, 'repo'), ...args], { maxBuffer: 1 << 30 }).toString('utf8')
}
function source(repo, ghRepo, path, licence, extra = {}) {
  const [commit, date] = git(repo, 'log', '-1', '--format=%H %cI').trim().split(' ')
  return { repository: `https://github.com/${ghRepo}`, path, commit, committed: date, licence, trimmedBy: 'test/contracts/tools/extract.mjs', ...extra }
}
const write = (name, fixture) => writeFileSync(join(out, name), JSON.stringify(fixture, null, 1) + '\n')

/** Rewrites every $ref with `from` prefix to #/definitions/ and collects the names reached from `roots`. */
function closure(all, roots, prefix) {
  const seen = new Set()
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (!node || typeof node !== 'object') return
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(prefix)) {
        const name = v.slice(prefix.length)
        if (!seen.has(name)) {
          seen.add(name)
          walk(all[name])
        }
      } else walk(v)
    }
  }
  walk(roots)
  return seen
}
function rewrite(node, prefix) {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, prefix))
  if (!node || typeof node !== 'object') return node
  const o = {}
  for (const [k, v] of Object.entries(node)) {
    if (k === 'example' || k === 'examples' || k === 'x-examples') continue
    o[k] = k === '$ref' && typeof v === 'string' && v.startsWith(prefix) ? `#/definitions/${v.slice(prefix.length)}` : rewrite(v, prefix)
  }
  return o
}


/**
 * Constraints a spec states only in prose (a field's description), made checkable: each rule matches the
 * description text and merges its constraint into that schema, with the words as x-prose.
 */
function applyProse(node, rules, applied) {
  if (Array.isArray(node)) return node.map((n) => applyProse(n, rules, applied))
  if (!node || typeof node !== 'object') return node
  let o = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, applyProse(v, rules, applied)]))
  for (const rule of rules) {
    if (typeof o.description === 'string' && rule.match.test(o.description)) {
      o = { ...o, ...rule.constraint(o), 'x-prose': rule.words }
      applied.add(rule.words)
    }
  }
  return o
}

// ------------------------------------------------------------------------------------------------ Zoom (Swagger 2.0)
function zoom() {
  const spec = JSON.parse(git('zoom+api', 'show', 'HEAD:openapi.v2.json'))
  const wanted = [
    ['post', '/users/{userId}/meetings'],
    ['get', '/users/{userId}/meetings'],
    ['get', '/meetings/{meetingId}'],
    ['patch', '/meetings/{meetingId}'],
    ['delete', '/meetings/{meetingId}'],
    ['get', '/users/{userId}'],
  ]
  const P = '#/definitions/'
  const operations = []
  for (const [method, path] of wanted) {
    const item = spec.paths[path]
    const op = item[method]
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => (p.$ref ? spec.parameters[p.$ref.split('/').pop()] : p))
    const body = params.find((p) => p.in === 'body')
    const responses = {}
    for (const [status, r] of Object.entries(op.responses)) responses[status] = r.schema ? r.schema : null
    operations.push({
      id: op.operationId,
      method: method.toUpperCase(),
      path,
      parameters: params
        .filter((p) => p.in === 'path' || p.in === 'query')
        .map((p) => {
          const { name, in: where, required, description, ...schema } = p
          return { name, in: where, required: Boolean(required), schema }
        }),
      requestBody: body ? { required: Boolean(body.required), schema: body.schema } : null,
      responses,
    })
  }
  const names = closure(spec.definitions, operations, P)
  const definitions = Object.fromEntries([...names].sort().map((n) => [n, rewrite(spec.definitions[n], P)]))
  // The 2021 document types the meeting id and the user's pmi as strings; Zoom's current SDK types, generated
  // from its current API definitions, say numbers. The newer word wins (the fields, nothing else, are replaced).
  const rivet = source('zoom+rivet-javascript', 'zoom/rivet-javascript', 'meetings/meetings.d.ts, users/users.d.ts', 'Zoom API License and Terms of Use (LICENSE.md)')
  const overrides = [
    { description: /^Meeting ID, also know n? ?as meeting number$|^Meeting ID, also known? as meeting number$/, schema: { type: 'integer', format: 'int64' }, words: 'meetings/meetings.d.ts MeetingsCreateMeetingResponse / MeetingsGetMeetingResponse / MeetingsListMeetingsResponse: "id?: number;"' },
    { description: /^Personal Meeting ID$/, schema: { type: 'integer', format: 'int64' }, words: 'users/users.d.ts UsersGetUserResponse: "pmi?: number;"' },
  ]
  const applied = []
  const override = (node) => {
    if (Array.isArray(node)) return node.map(override)
    if (!node || typeof node !== 'object') return node
    const o = overrides.find((x) => typeof node.description === 'string' && x.description.test(node.description) && node.type === 'string')
    if (o) {
      applied.push(o.words)
      return { ...o.schema, description: node.description, 'x-override': `${o.words} (zoom/rivet-javascript ${rivet.commit})` }
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, override(v)]))
  }
  // Fields the current SDK types declare and the 2021 document lacks, that the adapter sends: added, marked.
  const additions = [
    {
      where: (props) => 'join_before_host' in props && 'waiting_room' in props,
      name: 'meeting_authentication',
      schema: { type: 'boolean', description: 'If true, only authenticated users can join meetings.' },
      words: 'meetings/meetings.d.ts MeetingsCreateMeetingRequestBody / MeetingsUpdateMeetingRequestBody settings: "meeting_authentication?: boolean;"',
    },
  ]
  const add = (node) => {
    if (Array.isArray(node)) return node.forEach(add)
    if (!node || typeof node !== 'object') return
    const props = node.properties
    if (props && typeof props === 'object') {
      for (const a of additions) {
        if (a.where(props) && !(a.name in props)) {
          props[a.name] = { ...a.schema, 'x-override': `${a.words} (zoom/rivet-javascript ${rivet.commit})` }
          applied.push(a.words)
        }
      }
    }
    Object.values(node).forEach(add)
  }
  const ops = override(rewrite(operations, P))
  const defs = override(definitions)
  add(ops)
  add(defs)
  const prose = new Set()
  const zoomRules = [
    {
      match: /Password may only contain the following characters: \[a-z A-Z 0-9 @ - _ \*\]\. Max of 10 characters/,
      constraint: () => ({ pattern: '^[a-zA-Z0-9@_*-]*$', maxLength: 10 }),
      words: 'Password may only contain the following characters: [a-z A-Z 0-9 @ - _ *]. Max of 10 characters.',
    },
  ]
  const opsP = applyProse(ops, zoomRules, prose)
  const defsP = applyProse(defs, zoomRules, prose)
  write('zoom.json', {
    _source: source('zoom+api', 'zoom/api', 'openapi.v2.json', 'Apache-2.0 (LICENSE in the repository)', {
      note: 'Zoom API v2 Swagger 2.0 document (last published in this repository 2021); examples dropped, only the operations listed in operations[] and the definitions they reach. Where the current Zoom SDK types (zoom/rivet-javascript) type a field differently, the newer type replaces it: see _overrides and x-override.',
    }),
    _overrides: { source: rivet, applied: [...new Set(applied)] },
    _prose: [...prose],
    basePath: spec.basePath,
    operations: opsP,
    definitions: defsP,
  })
}

// ------------------------------------------------------------------------------------------------ Webex (OpenAPI 3.0)
function webex() {
  const spec = JSON.parse(git('webex+webex-openapi-specs', 'show', 'HEAD:public-spec/webex-meeting.json'))
  const wanted = [
    ['post', '/meetings'],
    ['get', '/meetings'],
    ['get', '/meetings/{meetingId}'],
    ['patch', '/meetings/{meetingId}'],
    ['put', '/meetings/{meetingId}'],
    ['delete', '/meetings/{meetingId}'],
    ['get', '/people/me'],
  ]
  const P = '#/components/schemas/'
  const jsonOf = (content) => {
    if (!content) return null
    const key = Object.keys(content).find((k) => /json/.test(k))
    return key ? (content[key].schema ?? null) : null
  }
  const operations = []
  for (const [method, path] of wanted) {
    const item = spec.paths[path]
    const op = item[method]
    const responses = {}
    for (const [status, r] of Object.entries(op.responses)) responses[status] = jsonOf(r.content)
    const contentTypes = op.requestBody?.content ? Object.keys(op.requestBody.content) : []
    operations.push({
      id: op.operationId ?? `${method} ${path}`,
      summary: op.summary,
      method: method.toUpperCase(),
      path,
      parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])]
        .filter((p) => p.in === 'path' || p.in === 'query')
        .map((p) => ({ name: p.name, in: p.in, required: Boolean(p.required), schema: p.schema ?? {}, ...(p.description && { description: p.description.slice(0, 400) }) })),
      requestBody: op.requestBody ? { required: Boolean(op.requestBody.required), contentTypes, schema: jsonOf(op.requestBody.content) } : null,
      responses,
    })
  }
  const names = closure(spec.components.schemas, operations, P)
  const prose = new Set()
  const webexRules = [
    { match: /The title can be a maximum of 128 characters long/, constraint: () => ({ maxLength: 128 }), words: 'The title can be a maximum of 128 characters long.' },
    { match: /The agenda can be a maximum of 1300 characters long/, constraint: () => ({ maxLength: 1300 }), words: 'The agenda can be a maximum of 1300 characters long.' },
    {
      match: /The maximum size of `integrationTags` is 3 and each item of `integrationTags` can be a maximum of 64 characters long/,
      constraint: (o) => ({ maxItems: 3, items: { ...(o.items ?? {}), maxLength: 64 } }),
      words: 'The maximum size of `integrationTags` is 3 and each item of `integrationTags` can be a maximum of 64 characters long.',
    },
  ]
  const definitions = applyProse(Object.fromEntries([...names].sort().map((n) => [n, rewrite(spec.components.schemas[n], P)])), webexRules, prose)
  write('webex.json', {
    _source: source('webex+webex-openapi-specs', 'webex/webex-openapi-specs', 'public-spec/webex-meeting.json', 'CC-BY-4.0 (LICENSE in the repository)', {
      note: 'Webex Meetings OpenAPI 3.0; examples dropped, only the operations listed in operations[] and the schemas they reach. The 400 answer of Create a Meeting carries the documented error shape {message, errors[{description}], trackingId}.',
    }),
    _prose: [...prose],
    basePath: '/v1',
    operations: applyProse(rewrite(operations, P), webexRules, prose),
    definitions,
  })
}

// ------------------------------------------------------------------------------------------------ Microsoft Graph (CSDL)
function graph() {
  const xml = git('microsoftgraph+msgraph-metadata', 'show', 'HEAD:clean_v10_metadata/cleanMetadata.xml')
  const attrs = (s) => Object.fromEntries([...s.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
  /** qualified name (alias.Name; bare Name for microsoft.graph) → { kind, base, props: [{Name, Type, Nullable}], members } */
  const types = new Map()
  const qualify = (ref, ns) => {
    // graph.x / microsoft.graph.x → x; other namespaces keep their alias (self.x, callRecords.x ...)
    let r = ref
    for (const [full, alias] of ns) if (r.startsWith(full + '.') && full !== 'microsoft.graph') r = `${alias}.${r.slice(full.length + 1)}`
    if (r.startsWith('microsoft.graph.')) r = r.slice('microsoft.graph.'.length)
    if (r.startsWith('graph.')) r = r.slice('graph.'.length)
    return r
  }
  const namespaces = [...xml.matchAll(/<Schema Namespace="([^"]+)"(?: Alias="([^"]+)")?/g)].map((m) => [m[1], m[2] ?? m[1].split('.').pop()])
  for (const block of xml.split(/(?=<Schema Namespace=)/)) {
    const head = /^<Schema Namespace="([^"]+)"(?: Alias="([^"]+)")?/.exec(block)
    if (!head) continue
    const prefix = head[1] === 'microsoft.graph' ? '' : `${head[2] ?? head[1].split('.').pop()}.`
    // within a schema, its own alias is used for local references: resolve them to the qualified form
    const local = (ref) => (ref && head[2] && ref.startsWith(head[2] + '.') && head[1] !== 'microsoft.graph' ? `${head[1]}.${ref.slice(head[2].length + 1)}` : ref)
    for (const m of block.matchAll(/<(EntityType|ComplexType)\s([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/g)) {
      const a = attrs(m[2])
      const props = [...(m[4] ?? '').matchAll(/<Property\s([^>]*?)\/?>/g)].map((p) => attrs(p[1])).map((p) => ({ ...p, Type: p.Type.replace(/[\w.]+\.\w+/g, (t) => (t.startsWith('Edm.') ? t : qualify(local(t), namespaces))) }))
      types.set(prefix + a.Name, { kind: m[1], base: a.BaseType && qualify(local(a.BaseType), namespaces), abstract: a.Abstract === 'true', props })
    }
    for (const m of block.matchAll(/<EnumType\s([^>]*?)>([\s\S]*?)<\/EnumType>/g)) {
      const a = attrs(m[1])
      types.set(prefix + a.Name, { kind: 'EnumType', flags: a.IsFlags === 'true', members: [...m[2].matchAll(/<Member\s([^>]*?)\/?>/g)].map((x) => attrs(x[1]).Name) })
    }
  }
  const EDM = {
    'Edm.String': { type: 'string' },
    'Edm.Boolean': { type: 'boolean' },
    'Edm.Int32': { type: 'integer', format: 'int32' },
    'Edm.Int64': { type: 'integer', format: 'int64' },
    'Edm.Int16': { type: 'integer' },
    'Edm.Byte': { type: 'integer' },
    'Edm.Double': { type: 'number' },
    'Edm.Single': { type: 'number' },
    'Edm.Decimal': { type: 'number' },
    'Edm.Guid': { type: 'string', format: 'uuid' },
    'Edm.DateTimeOffset': { type: 'string', format: 'date-time' },
    'Edm.Date': { type: 'string', format: 'date' },
    'Edm.TimeOfDay': { type: 'string' },
    'Edm.Duration': { type: 'string', format: 'duration' },
    'Edm.Binary': { type: 'string', contentEncoding: 'base64' },
    'Edm.Stream': { type: 'string' },
  }
  const used = new Set()
  const schemaOf = (type, nullable) => {
    const coll = /^Collection\((.*)\)$/.exec(type)
    if (coll) return { type: 'array', items: schemaOf(coll[1], false) }
    let s
    if (EDM[type]) s = { ...EDM[type] }
    else {
      const name = qualify(type, namespaces)
      if (!types.has(name)) throw new Error(`unknown type ${type}`)
      used.add(name)
      s = { $ref: `#/definitions/${name}` }
    }
    return nullable ? { anyOf: [s, { type: 'null' }] } : s
  }
  /** The user entity is huge: keep the properties the adapter and the fake use. */
  const KEEP = { user: ['id', 'displayName', 'mail', 'userPrincipalName', 'givenName', 'surname', 'preferredLanguage'], directoryObject: ['id', 'deletedDateTime'], entity: ['id'] }
  const definitions = {}
  const define = (name) => {
    if (definitions[name]) return
    const t = types.get(name)
    if (!t) throw new Error(`no type ${name}`)
    definitions[name] = {}
    if (t.kind === 'EnumType') {
      definitions[name] = t.flags ? { type: 'string', 'x-odata-flags': t.members } : { type: 'string', enum: t.members }
      return
    }
    const properties = {}
    const keep = KEEP[name]
    for (const p of t.props) {
      if (keep && !keep.includes(p.Name)) continue
      properties[p.Name] = schemaOf(p.Type, p.Nullable !== 'false')
    }
    const own = { type: 'object', properties, required: t.props.filter((p) => p.Nullable === 'false' && (!keep || keep.includes(p.Name))).map((p) => p.Name) }
    if (own.required.length === 0) delete own.required
    if (t.base) {
      used.add(t.base)
      definitions[name] = { allOf: [{ $ref: `#/definitions/${t.base}` }, own], 'x-odata-kind': t.kind }
    } else definitions[name] = { ...own, 'x-odata-kind': t.kind }
  }
  used.add('onlineMeeting')
  used.add('user')
  // createOrGet: an action bound to the collection of onlineMeeting
  const action = /<Action Name="createOrGet" IsBound="true">([\s\S]*?)<\/Action>/.exec(xml)
  if (!action) throw new Error('no createOrGet action')
  const params = [...action[1].matchAll(/<Parameter\s([^>]*?)\/?>/g)].map((p) => attrs(p[1])).filter((p) => p.Name !== 'bindingParameter')
  const bindingType = /<Parameter Name="bindingParameter" Type="([^"]+)"/.exec(action[1])?.[1]
  const returnType = /<ReturnType Type="([^"]+)"/.exec(action[1])?.[1]
  const createOrGet = {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.Name, schemaOf(p.Type.replace(/graph\./g, ''), p.Nullable !== 'false')])),
    // Not in CSDL (action parameters carry no "required"); microsoft-graph-docs-contrib
    // api-reference/v1.0/api/onlinemeeting-createorget.md (commit 028b8e354879f1054adbd96bfa8d16fff4330811):
    // "externalId | String | The external ID. A custom ID. (Required)"
    required: ['externalId'],
    'x-odata-binding': bindingType,
  }
  let guard = 0
  while ([...used].some((n) => !definitions[n]) && guard++ < 1000) for (const n of [...used]) define(n)
  const meeting = { $ref: '#/definitions/onlineMeeting' }
  // Not in CSDL: the error body every Graph call answers with (microsoft-graph-docs-contrib concepts/errors.md:
  // "The error resource is returned whenever an error occurs"; {"error": {"code", "message", "innerError"}}).
  definitions.odataError = {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, innerError: { type: 'object' }, details: { type: 'array' } } } },
    'x-source': 'microsoftgraph/microsoft-graph-docs-contrib concepts/errors.md (prose)',
  }
  // OData update semantics (PATCH): any subset of the entity's properties.
  const operations = [
    { id: 'me.onlineMeetings.createOrGet', method: 'POST', path: '/me/onlineMeetings/createOrGet', parameters: [], requestBody: { required: true, schema: createOrGet }, responses: { 200: schemaOf(qualify(returnType, namespaces), false), 201: schemaOf(qualify(returnType, namespaces), false) } },
    { id: 'me.onlineMeetings.create', method: 'POST', path: '/me/onlineMeetings', parameters: [], requestBody: { required: true, schema: meeting }, responses: { 201: meeting } },
    { id: 'me.onlineMeetings.get', method: 'GET', path: '/me/onlineMeetings/{onlineMeetingId}', parameters: [{ name: 'onlineMeetingId', in: 'path', required: true, schema: { type: 'string' } }], requestBody: null, responses: { 200: meeting } },
    { id: 'me.onlineMeetings.update', method: 'PATCH', path: '/me/onlineMeetings/{onlineMeetingId}', parameters: [{ name: 'onlineMeetingId', in: 'path', required: true, schema: { type: 'string' } }], requestBody: { required: true, schema: { $ref: '#/definitions/onlineMeeting', 'x-partial': true } }, responses: { 200: meeting, 204: null } },
    { id: 'me.onlineMeetings.delete', method: 'DELETE', path: '/me/onlineMeetings/{onlineMeetingId}', parameters: [{ name: 'onlineMeetingId', in: 'path', required: true, schema: { type: 'string' } }], requestBody: null, responses: { 204: null } },
    { id: 'me.get', method: 'GET', path: '/me', parameters: [], requestBody: null, responses: { 200: { $ref: '#/definitions/user' } } },
  ]
  for (const op of operations) op.responses.default = { $ref: '#/definitions/odataError' }
  write('microsoft-graph.json', {
    _source: source('microsoftgraph+msgraph-metadata', 'microsoftgraph/msgraph-metadata', 'clean_v10_metadata/cleanMetadata.xml', 'MIT (LICENSE in the repository)', {
      note: 'Converted from CSDL by this script: onlineMeeting, the types it reaches, the createOrGet action; user/directoryObject/entity trimmed to the properties in KEEP. Nullable="false" becomes required; other properties accept null. Operation paths and status codes follow the Graph v1.0 API reference (microsoftgraph/microsoft-graph-docs-contrib: api-reference/v1.0/api/onlinemeeting-createorget.md at 028b8e354879f1054adbd96bfa8d16fff4330811 for createOrGet, externalId \"(Required)\", \"201 Created ... if a new meeting is created, or a 200 OK ... if an existing meeting is retrieved\"; get 200, update 200 (204 also accepted), delete 204 as the onlinemeeting-get/update/delete pages give them, not re-read for this fixture). Error body: concepts/errors.md, \"The error resource is returned whenever an error occurs in the processing of a request\", {error: {code, message, innererror, details}}.',
    }),
    basePath: '/v1.0',
    operations,
    definitions: Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))),
  })
}

// ------------------------------------------------------------------------------------------------ Google (discovery)
function google() {
  const disc = JSON.parse(readFileSync(join(out, 'google-calendar-v3.discovery.json'), 'utf8'))
  const conv = (s) => {
    if (Array.isArray(s)) return s.map(conv)
    if (!s || typeof s !== 'object') return s
    const o = {}
    for (const [k, v] of Object.entries(s)) {
      if (k === 'id' && typeof v === 'string' && s.type === 'object') continue
      if (k === '$ref') o.$ref = `#/definitions/${v}`
      else if ((k === 'required' && typeof v === 'boolean') || k === 'annotations' || (k === 'description' && typeof v === 'string') || (k === 'default' && typeof v === 'string') || (k === 'location' && typeof v === 'string') || k === 'repeated' || k === 'enumDescriptions') continue
      else if ((k === 'minimum' || k === 'maximum') && typeof v === 'string') o[k] = Number(v)
      else if (k === 'format' && (v === 'int32' || v === 'int64' || v === 'uint32')) o.format = v
      else o[k] = conv(v)
    }
    return o
  }
  const operations = []
  for (const [name, m] of Object.entries(disc.resources.events.methods)) {
    const requiredFields = Object.entries(disc.schemas[m.request?.$ref ?? '']?.properties ?? {})
      .filter(([, p]) => p.annotations?.required?.includes(m.id))
      .map(([k]) => k)
    const responses = { 200: m.response ? { $ref: `#/definitions/${m.response.$ref}` } : null }
    // A method without a response object answers with an empty body (events.delete: 204 No Content).
    if (!m.response) {
      delete responses[200]
      responses[204] = null
    }
    responses.default = { $ref: '#/definitions/ErrorResponse' }
    operations.push({
      id: m.id,
      method: m.httpMethod,
      path: `/${m.path}`,
      parameters: Object.entries(m.parameters).map(([pn, p]) => ({ name: pn, in: p.location, required: Boolean(p.required), schema: conv(p) })),
      requestBody: m.request ? { required: true, schema: requiredFields.length ? { allOf: [{ $ref: `#/definitions/${m.request.$ref}` }, { required: requiredFields }] } : { $ref: `#/definitions/${m.request.$ref}` } } : null,
      responses,
    })
  }
  const definitions = Object.fromEntries(Object.entries(disc.schemas).map(([k, v]) => [k, conv(v)]))
  for (const rule of disc._prose) {
    const props = definitions[rule.schema].properties
    props[rule.property] = { allOf: [props[rule.property], rule.constraint], 'x-prose': rule.words }
  }
  write('google-calendar.json', {
    _source: { ...disc._source, trimmedBy: 'test/contracts/tools/extract.mjs from google-calendar-v3.discovery.json' },
    basePath: `/${disc.servicePath.replace(/\/$/, '')}`,
    operations,
    definitions,
  })
}

const only = process.argv[3]
for (const [name, f] of Object.entries({ zoom, webex, graph, google })) if (!only || only === name) f()
