import crypto from 'node:crypto'
import t from 'tap'
import { Vault, VaultError } from '../../src/security/vault.js'

const master = crypto.randomBytes(32)

t.test('an opened value is kept, and only ever answers the same sealed text under the same associated data', async (t) => {
  const vault = new Vault(master)
  const sealed = vault.seal('a secret', 'row:1')
  t.equal(vault.open(sealed, 'row:1'), 'a secret')
  t.equal(vault.open(sealed, 'row:1'), 'a secret', 'the second open is a hit')
  t.equal(vault.openedCount, 1)
  t.throws(() => vault.open(sealed, 'row:2'), VaultError, 'moved to another row: refused even right after a hit')
  const [v, key, iv, ct, tag] = sealed.split('.') as [string, string, string, string, string]
  const flipped = Buffer.from(ct, 'base64url')
  flipped[0]! ^= 1
  t.throws(() => vault.open([v, key, iv, flipped.toString('base64url'), tag].join('.'), 'row:1'), VaultError, 'one flipped byte: refused')
  t.equal(vault.openedCount, 1, 'failures are not kept')
  t.throws(() => new Vault(crypto.randomBytes(32)).open(sealed, 'row:1'), VaultError, 'another installation cannot open it')
})

t.test('the kept values are bounded, least recently used out first', async (t) => {
  const vault = new Vault(master)
  const first = vault.seal('first', 'row:first')
  vault.open(first, 'row:first')
  const values = Array.from({ length: Vault.OPENED_MAX + 50 }, (_, i) => vault.seal(`value ${i}`, `row:${i}`))
  const wrong = values.filter((sealed, i) => {
    if (i % 100 === 0) vault.open(first, 'row:first') // kept in use: stays
    return vault.open(sealed, `row:${i}`) !== `value ${i}`
  })
  t.same(wrong, [], 'every value opens to its own plaintext')
  t.equal(vault.openedCount, Vault.OPENED_MAX)
  t.equal(vault.open(first, 'row:first'), 'first')
  t.equal(vault.openedCount, Vault.OPENED_MAX, 'the value in use was still there: nothing was added')
})
