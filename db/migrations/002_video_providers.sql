-- The organization's video meeting provider: OAuth clients, the admin's connection, pending authorizations.

-- OAuth client registrations entered by an admin (environment variables win over these).
CREATE TABLE provider_clients (
  provider           TEXT    PRIMARY KEY,
  client_id          TEXT    NOT NULL,
  client_secret_enc  TEXT,
  tenant             TEXT,
  updated_at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_by         INTEGER REFERENCES users (id) ON DELETE SET NULL
) STRICT;

-- At most one active provider for the installation: Disconnect before choosing another.
CREATE TABLE organization_provider (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  provider        TEXT    NOT NULL,
  account_id      TEXT    NOT NULL DEFAULT '',
  account_name    TEXT    NOT NULL DEFAULT '',
  account_email   TEXT    NOT NULL DEFAULT '',
  tokens_enc      TEXT,
  granted_scope   TEXT    NOT NULL DEFAULT '',
  status          TEXT    NOT NULL DEFAULT 'connected' CHECK (status IN ('connected', 'needs_reconnect')),
  status_reason   TEXT    NOT NULL DEFAULT '',
  settings        TEXT    NOT NULL DEFAULT '{}',
  connected_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
  connected_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  version         INTEGER NOT NULL DEFAULT 1
) STRICT;

-- One row per authorization request sent to a provider. The browser only ever holds `state`; the PKCE
-- verifier stays here, encrypted. Consumed atomically before the token request, so a replayed callback
-- never reaches the token endpoint twice.
CREATE TABLE pending_authorizations (
  state_hash     TEXT    PRIMARY KEY,
  session_hash   TEXT    NOT NULL,
  user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider       TEXT    NOT NULL,
  purpose        TEXT    NOT NULL CHECK (purpose IN ('organization', 'user')),
  verifier_enc   TEXT    NOT NULL,
  return_to      TEXT    NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  consumed_at    INTEGER,
  outcome        TEXT    NOT NULL DEFAULT '',
  -- A user's sign-in as a different account than their connection's waits here (sealed) for confirmation.
  held_enc       TEXT
) STRICT;
CREATE INDEX pending_authorizations_created_at ON pending_authorizations (created_at);
