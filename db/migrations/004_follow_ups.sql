-- Follow-ups with video meetings: users' own provider connections, the diary, meetings and their jobs.

-- Each user's own sign-in at the organization's provider, made on first use.
CREATE TABLE user_connections (
  id                   INTEGER PRIMARY KEY,
  user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider             TEXT    NOT NULL,
  account_id           TEXT    NOT NULL,
  account_name         TEXT    NOT NULL DEFAULT '',
  account_email        TEXT    NOT NULL DEFAULT '',
  -- Sealed TokenSet JSON; associated data `user_connections:<id>:<user_id>:<provider>`.
  tokens_enc           TEXT,
  granted_scope        TEXT    NOT NULL DEFAULT '',
  status               TEXT    NOT NULL DEFAULT 'connected' CHECK (status IN ('connected', 'needs_reconnect')),
  status_reason        TEXT    NOT NULL DEFAULT '',
  -- Bumped on every token change: a refresh only stores its result if the version is still the one it read.
  version              INTEGER NOT NULL DEFAULT 1,
  -- A refresh in progress (any process): until this time (epoch ms) nobody else spends the refresh token.
  refresh_lease_until  INTEGER NOT NULL DEFAULT 0,
  refresh_lease_owner  TEXT    NOT NULL DEFAULT '',
  created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  last_used_at         TEXT,
  UNIQUE (user_id, provider)
) STRICT;

-- Admin-managed kinds of follow-up (Meeting, Call, ...); each says whether video is on by default.
CREATE TABLE follow_up_types (
  id             INTEGER PRIMARY KEY,
  name           TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  video_default  INTEGER NOT NULL DEFAULT 0 CHECK (video_default IN (0, 1)),
  position       INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO follow_up_types (name, video_default, position) VALUES ('Meeting', 1, 1), ('Call', 0, 2), ('Task', 0, 3);

CREATE TABLE follow_ups (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type_id      INTEGER REFERENCES follow_up_types (id) ON DELETE SET NULL,
  title        TEXT    NOT NULL,
  starts_at    TEXT    NOT NULL,  -- UTC, ISO 8601
  ends_at      TEXT    NOT NULL,
  time_zone    TEXT    NOT NULL,
  location     TEXT    NOT NULL DEFAULT '',
  description  TEXT    NOT NULL DEFAULT '',
  video        INTEGER NOT NULL DEFAULT 0 CHECK (video IN (0, 1)),
  -- Bumped on every change the provider must hear about (title, times, video on/off, deletion).
  version      INTEGER NOT NULL DEFAULT 1,
  deleted_at   TEXT,
  created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  CHECK (ends_at > starts_at)
) STRICT;
CREATE INDEX follow_ups_user_start ON follow_ups (user_id, starts_at) WHERE deleted_at IS NULL;

CREATE TABLE attendees (
  id            INTEGER PRIMARY KEY,
  follow_up_id  INTEGER NOT NULL REFERENCES follow_ups (id) ON DELETE CASCADE,
  email         TEXT    NOT NULL COLLATE NOCASE,
  UNIQUE (follow_up_id, email)
) STRICT;

-- The provider meeting of a follow-up, and where its synchronisation stands.
CREATE TABLE meetings (
  follow_up_id    INTEGER PRIMARY KEY REFERENCES follow_ups (id) ON DELETE CASCADE,
  provider        TEXT    NOT NULL,
  connection_id   INTEGER REFERENCES user_connections (id) ON DELETE SET NULL,
  -- Stable for the meeting's life: providers that support it dedupe creates on it.
  request_id      TEXT    NOT NULL,
  external_id     TEXT    NOT NULL DEFAULT '',
  join_url        TEXT    NOT NULL DEFAULT '',
  passcode        TEXT    NOT NULL DEFAULT '',
  dial_in         TEXT    NOT NULL DEFAULT '[]',
  -- pending: waiting for the provider (or for the user's connection); ready: link valid;
  -- needs_reconnect: the user must sign in again; failed: the provider refused (last_error says why);
  -- deleted: removed at the provider.
  state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready', 'needs_reconnect', 'failed', 'deleted')),
  synced_version  INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT    NOT NULL DEFAULT '',
  -- A create was sent but its answer was lost: the next attempt must look for that meeting first.
  create_unknown  INTEGER NOT NULL DEFAULT 0 CHECK (create_unknown IN (0, 1)),
  updated_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Work that must happen even if the provider is down now: retried with bounded backoff, survives restarts.
CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  kind          TEXT    NOT NULL,
  follow_up_id  INTEGER REFERENCES follow_ups (id) ON DELETE CASCADE,
  run_at        INTEGER NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  locked_until  INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT    NOT NULL DEFAULT '',
  created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (kind, follow_up_id)
) STRICT;
CREATE INDEX jobs_run_at ON jobs (run_at);

CREATE TABLE meeting_events (
  id            INTEGER PRIMARY KEY,
  follow_up_id  INTEGER NOT NULL REFERENCES follow_ups (id) ON DELETE CASCADE,
  at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  event         TEXT    NOT NULL,
  detail        TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX meeting_events_follow_up ON meeting_events (follow_up_id, id);
