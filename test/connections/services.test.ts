/**
 * The connection services on their own: built from an in-memory database with the real migrations, a vault and
 * the real provider adapters, without Fastify and without any provider answering (nothing here reaches a network).
 */
import crypto from 'node:crypto'
import t, { type Test } from 'tap'
import { createAppRegistrations } from '../../src/connections/app-registrations.js'
import { createAuthorization, missingScopes } from '../../src/connections/authorization.js'
import { createOrganizationProvider } from '../../src/connections/organization-provider.js'
import { createUserConnectionRemoval } from '../../src/connections/user-connection-removal.js'
import { migrate, openDatabase, readMigrations } from '../../src/db/database.js'
import { createAuditRepository } from '../../src/db/repositories/audit.js'
import { createOrganizationProviderRepository } from '../../src/db/repositories/organization-provider.js'
import { createPendingAuthorizationRepository } from '../../src/db/repositories/pending-authorizations.js'
import { createProviderClientRepository } from '../../src/db/repositories/provider-clients.js'
import { createUserConnectionRepository } from '../../src/db/repositories/user-connections.js'
import { migrationsDir } from '../../src/paths.js'
import { ConfigError } from '../../src/env.js'
import { ProviderError } from '../../src/providers/contract.js'
import { loadProvidersConfig } from '../../src/providers/endpoints.js'
import { createProviders } from '../../src/providers/registry.js'
import { createSandboxProvider } from '../../src/sandbox/adapter.js'
import { sandboxEndpoints } from '../../src/sandbox/endpoints.js'
import { Vault } from '../../src/security/vault.js'

const BASE_URL = 'http://127.0.0.1:3999'
const builtIn = { client: { id: 'built-in-id', secret: 'built-in-secret' }, endpoints: sandboxEndpoints(BASE_URL, 'http://127.0.0.1:3999') }

function world(t: Test, env: Record<string, string> = {}, masterSecret = crypto.randomBytes(32)) {
  const db = openDatabase(':memory:')
  migrate(db, readMigrations(migrationsDir))
  t.teardown(() => db.close())
  const vault = new Vault(masterSecret)
  const providersConfig = loadProvidersConfig(env, { internalUrl: BASE_URL, production: false })
  const providers = [...createProviders(providersConfig), createSandboxProvider(`${BASE_URL}/sandbox`, builtIn)]
  const audit = createAuditRepository(db)
  const clients = createProviderClientRepository(db)
  const connections = createUserConnectionRepository(db, vault)
  const pending = createPendingAuthorizationRepository(db)
  const registrations = createAppRegistrations({ config: { baseUrl: BASE_URL, providers: providersConfig }, vault, providers, clients, audit })
  t.teardown(() => registrations.close())
  const organizationProvider = createOrganizationProvider({ registrations, vault, organization: createOrganizationProviderRepository(db), audit })
  const connected: number[] = []
  const authorization = createAuthorization({ registrations, organizationProvider, vault, pending, connections, audit, onUserConnected: (id) => void connected.push(id) })
  const removal = createUserConnectionRemoval({ registrations, connections, audit })
  const addUser = (name: string) =>
    db.prepare<[string, string], { id: number }>("INSERT INTO users (email, name, password_hash) VALUES (?, ?, 'x') RETURNING id").get(`${name.toLowerCase()}@example.com`, name)!.id
  const lastAudit = () => audit.page(1, 0).entries[0]
  return { db, vault, clients, connections, registrations, organizationProvider, authorization, removal, addUser, lastAudit, connected }
}

t.test('app registrations: not set up, then the admin form, with Teams\' tenant as a declared field', async (t) => {
  const w = world(t)
  const admin = { id: w.addUser('Ada'), name: 'Ada' }
  t.same(w.registrations.status('zoom'), { source: null, clientId: '', secretSet: false, fields: {}, unreadable: false })
  t.same(w.registrations.status('teams').fields, { tenant: 'organizations' }, 'the declared default')
  t.same(w.registrations.status('jitsi').source, null, 'no sign-in, nothing to register')
  t.equal(await w.registrations.oauthClient('zoom'), null)

  w.registrations.save('teams', { clientId: 'teams-id', secret: 'teams-secret', fields: { tenant: 'contoso.onmicrosoft.com' } }, admin)
  t.same(w.registrations.status('teams'), { source: 'form', clientId: 'teams-id', secretSet: true, fields: { tenant: 'contoso.onmicrosoft.com' }, unreadable: false })
  t.equal(w.registrations.endpoints('teams').tokenUrl, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token', 'the field fills {tenant}')
  t.not(w.clients.get('teams')?.clientSecretSealed, 'teams-secret', 'the secret is stored sealed')
  t.match(w.lastAudit(), { action: 'video.client', subject: 'teams', details: { secretChanged: true } })

  w.registrations.save('teams', { clientId: 'teams-id-2', secret: null, fields: { tenant: 'common' } }, admin)
  t.same(w.registrations.status('teams'), { source: 'form', clientId: 'teams-id-2', secretSet: true, fields: { tenant: 'common' }, unreadable: false }, 'no secret typed: the stored one stays')

  w.registrations.save('zoom', { clientId: 'zoom-id', secret: 'zoom-secret', fields: { tenant: 'ignored' } }, admin)
  t.equal(w.clients.get('zoom')?.tenant, null, 'a field Zoom does not declare is not stored')
  t.same(w.registrations.status('zoom').fields, {})
})

t.test('app registrations: the environment wins over the form, fields included', async (t) => {
  const w = world(t, { TEAMS_CLIENT_ID: 'env-id', TEAMS_CLIENT_SECRET: 'env-secret', TEAMS_TENANT: 'fabrikam.example' })
  w.registrations.save('teams', { clientId: 'form-id', secret: 'form-secret', fields: { tenant: 'common' } }, { id: w.addUser('Ada'), name: 'Ada' })
  t.same(w.registrations.status('teams'), { source: 'environment', clientId: 'env-id', secretSet: true, fields: { tenant: 'fabrikam.example' }, unreadable: false })
  t.match(w.registrations.endpoints('teams').authorizeUrl, '/fabrikam.example/')
  t.throws(() => loadProvidersConfig({ TEAMS_TENANT: 'not a tenant!' }, { internalUrl: BASE_URL, production: false }), new ConfigError('TEAMS_TENANT', 'must be common, organizations, a tenant id (GUID) or a domain'))
})

t.test('app registrations: a provider with its own registration needs nothing set up', async (t) => {
  const w = world(t)
  t.same(w.registrations.status('sandbox'), { source: 'built-in', clientId: 'built-in-id', secretSet: true, fields: {}, unreadable: false })
  t.same(w.registrations.endpoints('sandbox'), builtIn.endpoints)
  t.ok(await w.registrations.oauthClient('sandbox'), 'an OAuth client from the built-in credentials')
  t.equal(w.registrations.redirectUri('sandbox'), `${BASE_URL}/oauth/sandbox/callback`)
})

t.test('app registrations: a secret sealed under another key reads as unreadable, not as set up', async (t) => {
  const secret = crypto.randomBytes(32)
  const first = world(t, {}, secret)
  first.registrations.save('webex', { clientId: 'webex-id', secret: 'webex-secret', fields: {} }, { id: first.addUser('Ada'), name: 'Ada' })
  const stored = first.clients.get('webex')!
  const second = world(t)
  second.clients.save('webex', { clientId: stored.clientId, secretSealed: stored.clientSecretSealed, tenant: null }, second.addUser('Bob'))
  t.same(second.registrations.status('webex'), { source: null, clientId: 'webex-id', secretSet: true, fields: {}, unreadable: true })
  t.equal(await second.registrations.oauthClient('webex'), null)
})

t.test('organization provider: one at a time, settings checked, Disconnect', async (t) => {
  const w = world(t)
  const admin = { id: w.addUser('Ada'), name: 'Ada' }
  t.same(w.organizationProvider.available().map((p) => p.id), ['zoom', 'teams', 'google-meet', 'webex', 'jitsi', 'sandbox'])
  t.equal(w.organizationProvider.current(), null)

  t.same(w.organizationProvider.connectWithoutSignIn('jitsi', admin), { ok: true })
  const current = w.organizationProvider.current()!
  t.match(current, { provider: 'jitsi', tokensReadable: true, settings: { serverUrl: 'https://meet.jit.si', roomPattern: '{title}-{random}' } })
  t.equal(current.adapter.name, 'Jitsi')
  t.match(w.lastAudit(), { action: 'video.connect', subject: 'Jitsi' })
  t.same(w.organizationProvider.connectWithoutSignIn('jitsi', admin), { ok: true }, 'the same provider again: reconnected')
  t.same(w.organizationProvider.connectWithoutSignIn('sandbox', admin), { ok: false, failure: { reason: 'already_configured', provider: 'Jitsi' } }, 'another one: Disconnect first')

  t.same(w.organizationProvider.saveSettings({ serverUrl: 'http://insecure.example', roomPattern: '{random}' }, 'en', admin), {
    ok: false,
    errors: { serverUrl: 'Enter the https address of a Jitsi server, e.g. https://meet.jit.si.' },
  })
  t.same(w.organizationProvider.saveSettings({ serverUrl: 'https://jitsi.example.org/', roomPattern: 'acme-{random}' }, 'en', admin), {
    ok: true,
    settings: { serverUrl: 'https://jitsi.example.org', roomPattern: 'acme-{random}' },
  })
  t.same(w.lastAudit()?.details, { fields: ['serverUrl', 'roomPattern'] }, 'names only in the audit log')

  t.same(await w.organizationProvider.disconnect(admin), { provider: 'Jitsi', revoked: 'nothing' })
  t.equal(w.organizationProvider.current(), null)
  t.equal(await w.organizationProvider.disconnect(admin), null, 'nothing left to disconnect')
})

t.test("user connection removal: the tokens go even when the grant can't be revoked", async (t) => {
  const w = world(t)
  const user = { id: w.addUser('Jill'), name: 'Jill' }
  t.equal(await w.removal.remove(12345, user), null, 'no such connection')
  const { id } = w.connections.connect({
    userId: user.id,
    provider: 'zoom',
    accountId: 'acc-1',
    accountName: 'Jill Chill',
    accountEmail: 'jill@example.com',
    grantedScope: 'meeting:write:meeting',
    tokens: { accessToken: 'at', refreshToken: 'rt', expiresAt: null, scope: null },
  })
  // Zoom has a revocation endpoint, but no app registration here: there is no client to revoke with.
  t.same(await w.removal.remove(id, user), { provider: 'Zoom', revoked: 'no_endpoint' })
  t.equal(w.connections.findForUser(user.id, 'zoom'), undefined)
  t.match(w.lastAudit(), { action: 'connection.remove', subject: 'Zoom', details: { user: user.id, account: 'jill@example.com', revoked: 'no_endpoint' } })
})

t.test('authorization: start holds state and PKCE server-side; the callback checks before anything is stored', async (t) => {
  const w = world(t)
  const admin = { id: w.addUser('Ada'), name: 'Ada' }
  await t.rejects(w.authorization.start('zoom', { userId: admin.id, sessionId: 's1', purpose: 'organization' }), ProviderError, 'a provider not set up cannot start')

  const url = new URL(await w.authorization.start('sandbox', { userId: admin.id, sessionId: 's1', purpose: 'organization' }))
  t.equal(`${url.origin}${url.pathname}`, builtIn.endpoints.authorizeUrl)
  t.equal(url.searchParams.get('code_challenge_method'), 'S256')
  t.equal(url.searchParams.get('redirect_uri'), `${BASE_URL}/oauth/sandbox/callback`)
  const state = url.searchParams.get('state')!
  t.equal(w.db.prepare('SELECT COUNT(*) FROM pending_authorizations').pluck().get(), 1)
  t.notMatch(JSON.stringify(w.db.prepare('SELECT * FROM pending_authorizations').all()), state, 'the state itself is not stored')

  const who = { sessionId: 's1', actor: admin, isAdmin: true }
  t.match(await w.authorization.complete('sandbox', {}, who), { ok: false, failure: { reason: 'state', problem: 'missing' } })
  t.match(await w.authorization.complete('sandbox', { state }, { ...who, sessionId: 'another' }), { ok: false, failure: { reason: 'state' } }, 'bound to the session')
  t.match(await w.authorization.complete('sandbox', { state, error: 'access_denied' }, who), { ok: false, purpose: 'organization', failure: { reason: 'denied' } })
  t.match(await w.authorization.complete('sandbox', { state, code: 'x' }, who), { ok: false, failure: { reason: 'state' } }, 'single use')
  t.equal(w.organizationProvider.current(), null, 'nothing stored')

  const again = new URL(await w.authorization.start('sandbox', { userId: admin.id, sessionId: 's1', purpose: 'organization' })).searchParams.get('state')!
  t.match(await w.authorization.complete('sandbox', { state: again, code: 'x', iss: 'https://elsewhere.example' }, who), { ok: false, failure: { reason: 'issuer' } }, 'RFC 9207 mix-up defence')
  t.same(w.connected, [], 'no user connection was made')
})

t.test('authorization: scopes are compared as sets', async (t) => {
  t.same(missingScopes(['a', 'b'], 'b a c'), [])
  t.same(missingScopes(['a', 'b'], 'a,c'), ['b'])
  t.same(missingScopes(['a'], null), [], 'no scope in the answer: nothing to compare')
})
