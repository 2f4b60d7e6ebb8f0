-- The built-in Sandbox provider: a small OAuth 2.0 authorization server and meetings API inside the app,
-- so the whole "connect a provider" flow can be tried offline. Codes and tokens are stored only as
-- SHA-256 hashes (hex), so a copy of the database holds nothing that works. Times are epoch milliseconds.

CREATE TABLE sandbox_accounts (
  id          TEXT    PRIMARY KEY,
  email       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
  name        TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE sandbox_authorization_codes (
  code_hash       TEXT    PRIMARY KEY,
  client_id       TEXT    NOT NULL,
  redirect_uri    TEXT    NOT NULL,
  code_challenge  TEXT    NOT NULL,
  scope           TEXT    NOT NULL,
  account_id      TEXT    NOT NULL REFERENCES sandbox_accounts (id) ON DELETE CASCADE,
  expires_at      INTEGER NOT NULL,
  used_at         INTEGER,
  -- The token family issued from this code: a replayed code revokes it.
  family_id       TEXT
) STRICT;
CREATE INDEX sandbox_authorization_codes_expires_at ON sandbox_authorization_codes (expires_at);

CREATE TABLE sandbox_tokens (
  token_hash   TEXT    PRIMARY KEY,
  kind         TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
  -- Every token descended from one authorization code; reuse of a rotated refresh token revokes them all.
  family_id    TEXT    NOT NULL,
  client_id    TEXT    NOT NULL,
  account_id   TEXT    NOT NULL REFERENCES sandbox_accounts (id) ON DELETE CASCADE,
  scope        TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  revoked_at   INTEGER,
  -- Refresh tokens: the hash of the refresh token that replaced this one at rotation.
  replaced_by  TEXT
) STRICT;
CREATE INDEX sandbox_tokens_family_id ON sandbox_tokens (family_id);
CREATE INDEX sandbox_tokens_expires_at ON sandbox_tokens (expires_at);

CREATE TABLE sandbox_meetings (
  id            TEXT    PRIMARY KEY,
  account_id    TEXT    NOT NULL REFERENCES sandbox_accounts (id) ON DELETE CASCADE,
  request_id    TEXT,
  title         TEXT    NOT NULL,
  start_at      TEXT    NOT NULL,
  end_at        TEXT    NOT NULL,
  time_zone     TEXT    NOT NULL,
  passcode      TEXT    NOT NULL,
  waiting_room  INTEGER NOT NULL DEFAULT 0 CHECK (waiting_room IN (0, 1)),
  join_url      TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  deleted_at    INTEGER
) STRICT;
-- A repeated requestId from the same account is the same meeting (idempotent create).
CREATE UNIQUE INDEX sandbox_meetings_request_id ON sandbox_meetings (account_id, request_id) WHERE request_id IS NOT NULL;
CREATE INDEX sandbox_meetings_account_id ON sandbox_meetings (account_id);
