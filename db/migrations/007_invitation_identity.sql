-- One calendar identity per follow-up, whichever way its invitation went out (mail or download):
-- * every follow-up has its UID from creation on; the ones made before get a random one now (globally unique:
--   the old `follow-up-<id>@video-meetings` was the same on every installation and came back after a delete);
-- * the organizer an invitation was first sent with is kept (servers such as Cyrus refuse an update whose
--   ORGANIZER changed under the same UID);
-- * whether Location holds the join link we put there (ours to replace or clear) or words the user typed.
UPDATE follow_ups SET ical_uid = lower(hex(randomblob(16))) || '@video-meetings' WHERE ical_uid IS NULL;
ALTER TABLE follow_ups ADD COLUMN ical_organizer TEXT;
ALTER TABLE follow_ups ADD COLUMN location_is_link INTEGER NOT NULL DEFAULT 0;
