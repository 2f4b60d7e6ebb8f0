/** Names of the assets embedded in the single executable; shared by scripts/build-binary.ts and src/sea/main.ts. */
export const ASSET_KEYS = {
  /** A template, by its path below views/ (e.g. views/pages/setup.eta). */
  view: (relative: string) => `views/${relative}`,
  viewPrefix: 'views/',
  /** A static file, by the name the assets plugin serves it under (e.g. public/vendor/htmx.min.js). */
  public: (name: string) => `public/${name}`,
  publicPrefix: 'public/',
  /** The migrations, as JSON: [{ version, name, sql }] (read and checked by readMigrations at build time). */
  migrations: 'migrations.json',
  /** better-sqlite3's addon, compiled for the embedded Node.js. */
  sqliteAddon: 'better_sqlite3.node',
} as const
