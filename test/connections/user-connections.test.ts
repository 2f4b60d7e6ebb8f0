import crypto from 'node:crypto'
import path from 'node:path'
import t, { type Test } from 'tap'
import { migrate, openDatabase, readMigrations, type Db } from '../../src/db/database.js'
import { createUserConnectionRepository, userConnectionAad } from '../../src/db/repositories/user-connections.js'
import type { TokenSet } from '../../src/connections/oauth-client.js'
import { migrationsDir } from '../../src/paths.js'
import { zoomProvider } from '../../src/providers/zoom/adapter.js'
import { Vault } from '../../src/security/vault.js'
import { startZoomFake } from '../fakes/zoom.js'
import { tempDir } from '../helpers/app.js'
import { connect } from '../providers/helpers.js'

const fake = await startZoomFake()
t.teardown(() => fake.close())

/** Real tokens: authorize → token at the Zoom fake with PKCE. */
async function zoomTokens(): Promise<TokenSet> {
  const c = await connect(fake, zoomProvider)
  const r = c.tokenResponse
  return { accessToken: String(r.access_token), refreshToken: String(r.refresh_token), expiresAt: Date.now() + Number(r.expires_in) * 1000, scope: String(r.scope) }
}

function setup(t: Test) {
  const db = openDatabase(path.join(tempDir(t), 'app.db'))
  migrate(db, readMigrations(migrationsDir))
  t.teardown(() => db.close())
  const vault = new Vault(crypto.randomBytes(32))
  const repo = createUserConnectionRepository(db, vault)
  const addUser = (name: string) =>
    db.prepare<[string, string], { id: number }>("INSERT INTO users (email, name, password_hash) VALUES (?, ?, 'x') RETURNING id").get(`${name.toLowerCase()}@example.com`, name)!.id
  return { db, vault, repo, addUser }
}

const sealedOf = (db: Db, id: number) => db.prepare<[number], string>('SELECT tokens_enc FROM user_connections WHERE id = ?').pluck().get(id)!
const input = (userId: number, tokens: TokenSet, over: Partial<{ accountId: string; accountName: string; accountEmail: string; provider: string }> = {}) => ({
  userId,
  provider: 'zoom',
  accountId: 'acc-1',
  accountName: 'Jill Chill',
  accountEmail: 'jill@example.com',
  grantedScope: tokens.scope ?? '',
  tokens,
  ...over,
})

t.test('connect stores sealed tokens bound to the row; models never carry tokens', async (t) => {
  const { db, repo, vault, addUser } = setup(t)
  const ann = addUser('Ann')
  const tokens = await zoomTokens()
  const { id, replacedAccount } = repo.connect(input(ann, tokens))
  t.equal(replacedAccount, false)
  const sealed = sealedOf(db, id)
  t.match(sealed, /^v1\./, 'sealed with the vault')
  t.notOk(sealed.includes('CANARY'), 'no token in clear in the database')
  t.equal(vault.open(sealed, `user_connections:${id}:${ann}:zoom`), JSON.stringify(tokens), 'associated data user_connections:<id>:<user_id>:<provider>')
  t.equal(userConnectionAad(id, ann, 'zoom'), `user_connections:${id}:${ann}:zoom`)
  t.same(repo.readTokens(id), tokens)

  const model = repo.get(id)!
  t.match(model, { id, userId: ann, provider: 'zoom', accountId: 'acc-1', accountName: 'Jill Chill', accountEmail: 'jill@example.com', status: 'connected', statusReason: '', version: 1, lastUsedAt: null })
  t.same(Object.keys(model).sort(), ['accountEmail', 'accountId', 'accountName', 'createdAt', 'grantedScope', 'id', 'lastUsedAt', 'provider', 'status', 'statusReason', 'updatedAt', 'userId', 'version'])
  for (const m of [model, repo.findForUser(ann, 'zoom'), ...repo.listForUser(ann), ...repo.listAll()]) t.notOk(JSON.stringify(m).includes('CANARY'), 'no token in a model')
  t.same(repo.findForUser(ann, 'zoom'), model)
  t.equal(repo.findForUser(ann, 'google-meet'), undefined)
  t.equal(repo.get(9999), undefined)
  t.equal(repo.readTokens(9999), null)
})

t.test('connect twice for the same user and provider keeps the row and clears needs_reconnect', async (t) => {
  const { repo, addUser } = setup(t)
  const ann = addUser('Ann')
  const first = repo.connect(input(ann, await zoomTokens()))
  t.ok(repo.markNeedsReconnect(first.id, 'invalid_grant'))
  t.match(repo.get(first.id), { status: 'needs_reconnect', statusReason: 'invalid_grant', version: 2 })

  const again = await zoomTokens()
  const second = repo.connect(input(ann, again, { accountName: 'Jill C.' }))
  t.same(second, { id: first.id, replacedAccount: false }, 'same id, same account')
  t.match(repo.get(first.id), { status: 'connected', statusReason: '', accountName: 'Jill C.', version: 3 })
  t.same(repo.readTokens(first.id), again, 'the new tokens replaced the old ones')

  const other = repo.connect(input(ann, await zoomTokens(), { accountId: 'acc-2' }))
  t.same(other, { id: first.id, replacedAccount: true }, 'another account at the provider is reported')
  t.equal(repo.listForUser(ann).length, 1, 'still one row per user and provider')
  const google = repo.connect(input(ann, await zoomTokens(), { provider: 'google-meet' }))
  t.not(google.id, first.id, 'another provider is another row')
  t.same(repo.listForUser(ann).map((c) => c.provider), ['google-meet', 'zoom'])
})

t.test('a damaged or moved sealed value reads as null and flags the row, never throws', async (t) => {
  const { db, repo, addUser } = setup(t)
  const ann = addUser('Ann')
  const bob = addUser('Bob')
  const a = repo.connect(input(ann, await zoomTokens())).id
  const b = repo.connect(input(bob, await zoomTokens())).id

  // One byte of the ciphertext flipped.
  const parts = sealedOf(db, a).split('.')
  const ct = Buffer.from(parts[3]!, 'base64url')
  ct[0] = ct[0]! ^ 0x01
  parts[3] = ct.toString('base64url')
  db.prepare('UPDATE user_connections SET tokens_enc = ? WHERE id = ?').run(parts.join('.'), a)
  t.equal(repo.readTokens(a), null)
  t.match(repo.get(a), { status: 'needs_reconnect', statusReason: 'unreadable' })

  // Bob's row gets a valid value copied from another row (Carol's, made just for this).
  const carol = addUser('Carol')
  const c = repo.connect(input(carol, await zoomTokens())).id
  db.prepare('UPDATE user_connections SET tokens_enc = ? WHERE id = ?').run(sealedOf(db, c), b)
  t.equal(repo.readTokens(b), null, 'a value moved to another user does not open')
  t.match(repo.snapshot(b), { connection: { status: 'needs_reconnect', statusReason: 'unreadable' }, tokens: null })
  t.match(repo.get(c), { status: 'connected' }, 'the source row is untouched')
  t.ok(repo.readTokens(c))

  // Garbage and a missing value.
  db.prepare("UPDATE user_connections SET tokens_enc = 'not-sealed', status = 'connected' WHERE id = ?").run(a)
  t.equal(repo.readTokens(a), null)
  t.match(repo.get(a), { status: 'needs_reconnect', statusReason: 'unreadable' })
  db.prepare("UPDATE user_connections SET tokens_enc = NULL, status = 'connected' WHERE id = ?").run(a)
  t.equal(repo.readTokens(a), null)
  t.match(repo.get(a), { status: 'needs_reconnect', statusReason: 'no_tokens' })

  // A later connect repairs it.
  const repaired = await zoomTokens()
  t.equal(repo.connect(input(ann, repaired)).id, a)
  t.same(repo.readTokens(a), repaired)
  t.match(repo.get(a), { status: 'connected', statusReason: '' })
})

t.test('compare-and-swap storing of refreshed tokens', async (t) => {
  const { db, repo, addUser } = setup(t)
  const ann = addUser('Ann')
  const id = repo.connect(input(ann, await zoomTokens())).id
  db.prepare("UPDATE user_connections SET refresh_lease_until = 99999999999999, refresh_lease_owner = 'me' WHERE id = ?").run(id)
  const next = await zoomTokens()
  t.equal(repo.storeRefreshedTokens(id, 7, next), null, 'a stale version stores nothing')
  t.notSame(repo.readTokens(id), next)
  t.equal(repo.storeRefreshedTokens(id, 1, next), 2, 'the current version stores and bumps')
  t.same(repo.readTokens(id), next)
  t.same(db.prepare('SELECT refresh_lease_until AS until, refresh_lease_owner AS owner FROM user_connections WHERE id = ?').get(id), { until: 0, owner: '' }, 'lease cleared')
  t.equal(repo.storeRefreshedTokens(9999, 1, next), null)

  t.notOk(repo.markNeedsReconnect(id, 'invalid_grant', { ifVersion: 1 }), 'not flagged when the version moved on')
  t.equal(repo.get(id)?.status, 'connected')
  t.ok(repo.markNeedsReconnect(id, 'invalid_grant', { ifVersion: 2 }))
  t.match(repo.get(id), { status: 'needs_reconnect', statusReason: 'invalid_grant', version: 3 })
})

t.test('listAll joins the users, most recent use first; remove hands back the tokens', async (t) => {
  const { repo, addUser } = setup(t)
  const ann = addUser('Ann')
  const bob = addUser('Bob')
  const annTokens = await zoomTokens()
  const a = repo.connect(input(ann, annTokens)).id
  const b = repo.connect(input(bob, await zoomTokens())).id
  const g = repo.connect(input(bob, await zoomTokens(), { provider: 'google-meet' })).id
  repo.markUsed(a)
  await new Promise((resolve) => setTimeout(resolve, 5))
  repo.markUsed(b)
  const all = repo.listAll()
  t.same(all.map((c) => c.id), [b, a, g], 'newest use first, never used last')
  t.match(all[0], { userName: 'Bob', userEmail: 'bob@example.com', provider: 'zoom' })
  t.ok(all[0]?.lastUsedAt)

  const removed = repo.remove(a)
  t.equal(removed?.connection.id, a)
  t.same(removed?.tokens, annTokens, 'the caller can revoke them')
  t.equal(repo.get(a), undefined)
  t.equal(repo.remove(a), null)

  const gone = repo.removeAllForProvider('zoom')
  t.same(gone.map((r) => r.connection.id), [b])
  t.ok(gone[0]?.tokens?.refreshToken)
  t.same(repo.listAll().map((c) => c.id), [g])
})
