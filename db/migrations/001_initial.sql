-- Accounts, sessions and the audit log: the foundation every later feature hangs off.

CREATE TABLE users (
  id             INTEGER PRIMARY KEY,
  email          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  name           TEXT    NOT NULL,
  password_hash  TEXT    NOT NULL,
  role           TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
  language       TEXT    NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'nl')),
  time_zone      TEXT    NOT NULL DEFAULT 'UTC',
  active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Sessions are looked up by the SHA-256 of the cookie's id, so a copy of the database holds no live session.
CREATE TABLE sessions (
  id_hash     TEXT    PRIMARY KEY,
  user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
  data        TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE audit_log (
  id             INTEGER PRIMARY KEY,
  at             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  actor_user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
  actor_name     TEXT    NOT NULL,
  action         TEXT    NOT NULL,
  subject        TEXT    NOT NULL DEFAULT '',
  details        TEXT    NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
