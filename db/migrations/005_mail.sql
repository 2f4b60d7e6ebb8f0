-- Email settings and meeting invitations, sent through an outbox that survives restarts.

-- Outgoing mail servers: one per user (their own) and at most one for the installation (admins).
CREATE TABLE mail_settings (
  id            INTEGER PRIMARY KEY,
  -- NULL: the installation-wide server.
  user_id       INTEGER UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  host          TEXT    NOT NULL,
  port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  security      TEXT    NOT NULL CHECK (security IN ('tls', 'starttls', 'none')),
  username      TEXT    NOT NULL DEFAULT '',
  -- Sealed; associated data `mail_settings:<id>:<user_id or installation>`.
  password_enc  TEXT,
  from_name     TEXT    NOT NULL,
  from_address  TEXT    NOT NULL,
  updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE UNIQUE INDEX mail_settings_installation ON mail_settings ((user_id IS NULL)) WHERE user_id IS NULL;

-- iCalendar identity of a follow-up: the UID never changes, SEQUENCE grows with every change sent.
ALTER TABLE follow_ups ADD COLUMN ical_uid TEXT;
ALTER TABLE follow_ups ADD COLUMN ical_sequence INTEGER NOT NULL DEFAULT 0;

-- Per attendee: whether they get invitations, and whether they were ever sent one (so removal cancels).
ALTER TABLE attendees ADD COLUMN invite INTEGER NOT NULL DEFAULT 1 CHECK (invite IN (0, 1));
ALTER TABLE attendees ADD COLUMN invited INTEGER NOT NULL DEFAULT 0 CHECK (invited IN (0, 1));

-- Every email to send. Written in the same transaction as the change that causes it; a worker sends it,
-- with retries and backoff, recording every attempt.
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  follow_up_id     INTEGER REFERENCES follow_ups (id) ON DELETE SET NULL,
  user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  recipient        TEXT    NOT NULL,
  kind             TEXT    NOT NULL CHECK (kind IN ('request', 'cancel')),
  sequence         INTEGER NOT NULL,
  -- What the invitation says, frozen when the change was saved (the join link is filled at send time).
  snapshot         TEXT    NOT NULL,
  -- waiting: for the video link; queued: ready to send; sending: claimed by a worker;
  -- superseded: a newer message to the same attendee replaced it before it went out.
  state            TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('waiting', 'queued', 'sending', 'sent', 'failed', 'superseded')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL DEFAULT 0,
  locked_until     INTEGER NOT NULL DEFAULT 0,
  last_error       TEXT    NOT NULL DEFAULT '',
  message_id       TEXT    NOT NULL,
  created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  sent_at          TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_follow_up ON outbox (follow_up_id, recipient);

CREATE TABLE outbox_attempts (
  id         INTEGER PRIMARY KEY,
  outbox_id  INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
  at         TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  ok         INTEGER NOT NULL CHECK (ok IN (0, 1)),
  detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
