import t from 'tap'
import { hashPassword, verifyPassword, CURRENT_PARAMS } from '../../src/security/passwords.js'

t.test('a hash is self-describing and verifies only the right password', async (t) => {
  const hash = await hashPassword('correct horse battery')
  t.match(hash, new RegExp(`^scrypt\\$N=${CURRENT_PARAMS.N},r=${CURRENT_PARAMS.r},p=${CURRENT_PARAMS.p}\\$`))
  t.same(await verifyPassword('correct horse battery', hash), { ok: true, needsRehash: false })
  t.same(await verifyPassword('correct horse batterY', hash), { ok: false, needsRehash: false })
  t.not(await hashPassword('correct horse battery'), hash, 'salted')
})

t.test('weaker stored parameters ask for a rehash on sign-in', async (t) => {
  const weak = await hashPassword('correct horse battery', { N: 2 ** 10, r: 8, p: 1 })
  t.same(await verifyPassword('correct horse battery', weak), { ok: true, needsRehash: true })
})

t.test('a damaged or foreign hash never verifies', async (t) => {
  for (const stored of ['', 'plain', 'scrypt$N=1,r=1,p=1$$', 'scrypt$N=99999999,r=8,p=1$AAAA$AAAA']) {
    t.same(await verifyPassword('x', stored), { ok: false, needsRehash: false }, stored)
  }
})
