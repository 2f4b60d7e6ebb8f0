import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'

export type Db = Database.Database

export interface Migration {
  version: number
  name: string
  sql: string
}

export interface OpenOptions {
  /**
   * The loaded better-sqlite3 addon (`process.dlopen` result), for the single executable, whose `require()`
   * cannot load it from node_modules. Defaults to the one given to useNativeBinding, else the package's own.
   */
  nativeBinding?: object
}

let defaultNativeBinding: object | undefined

/** Sets the addon every later openDatabase uses (the single executable calls this once at start). */
export function useNativeBinding(binding: object | undefined): void {
  defaultNativeBinding = binding
}

/** Opens (creating if needed) the SQLite file with the pragmas the app relies on. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true })
  const nativeBinding = options.nativeBinding ?? defaultNativeBinding
  // @types/better-sqlite3 knows only the path form of nativeBinding; the library takes the addon object too.
  const db = new Database(file, (nativeBinding ? { nativeBinding } : {}) as unknown as Database.Options)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  return db
}

const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/

export function readMigrations(dir: string): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const match = MIGRATION_FILE.exec(file)
      if (!match) throw new Error(`Migration file name must look like 001_name.sql: ${file}`)
      return { version: Number(match[1]), name: match[2]!, sql: fs.readFileSync(path.join(dir, file), 'utf8') }
    })
    .sort((a, b) => a.version - b.version)
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`Migrations must be numbered 001, 002, ... without gaps; found ${m.version} at position ${i + 1}`)
  })
  return migrations
}

/**
 * Applies the migrations not yet recorded, each inside its own transaction, so a failing one leaves the
 * database exactly as the previous one left it. Returns the versions applied.
 */
export function migrate(db: Db, migrations: Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
  ) STRICT`)
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[])
  const record = db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)')
  const done: number[] = []
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue
    db.transaction(() => {
      db.exec(migration.sql)
      record.run(migration.version, migration.name)
    }).immediate()
    done.push(migration.version)
  }
  return done
}

export function schemaVersion(db: Db): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) FROM schema_migrations').pluck().get() as number) ?? 0
}
