import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { migrate, openDatabase, readMigrations, schemaVersion } from '../../src/db/database.js'
import { migrationsDir } from '../../src/paths.js'
import { tempDir } from '../helpers/app.js'

t.test('migrations apply once: a second start applies nothing', async (t) => {
  const db = openDatabase(path.join(tempDir(t), 'x.db'))
  const migrations = readMigrations(migrationsDir)
  t.same(migrate(db, migrations), migrations.map((m) => m.version))
  t.same(migrate(db, migrations), [])
  t.equal(schemaVersion(db), migrations.length)
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('foreign_keys', { simple: true }), 1)
  t.equal(db.pragma('busy_timeout', { simple: true }), 5000)
  db.close()
})

t.test('a failing migration leaves the database as it was', async (t) => {
  const db = openDatabase(':memory:')
  const good = { version: 1, name: 'good', sql: 'CREATE TABLE a (x INTEGER) STRICT;' }
  const bad = { version: 2, name: 'bad', sql: 'CREATE TABLE b (x INTEGER) STRICT; INSERT INTO a VALUES (1); THIS IS NOT SQL;' }
  migrate(db, [good])
  t.throws(() => migrate(db, [good, bad]))
  t.equal(schemaVersion(db), 1)
  t.equal(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'").pluck().get(), 0, 'no half-created table')
  t.equal(db.prepare('SELECT COUNT(*) FROM a').pluck().get(), 0, 'no half-written rows')
})

t.test('migration files must be numbered without gaps', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, '001_a.sql'), 'SELECT 1;')
  fs.writeFileSync(path.join(dir, '003_c.sql'), 'SELECT 1;')
  t.throws(() => readMigrations(dir), /without gaps/)
  fs.writeFileSync(path.join(dir, 'oops.sql'), 'SELECT 1;')
  t.throws(() => readMigrations(dir), /001_name\.sql/)
})
