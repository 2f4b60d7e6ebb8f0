-- What people joining by phone or from a video system need, kept beside the meeting's passcode: Zoom's numeric
-- pstn_password and Webex's phoneAndVideoSystemPassword (the alphanumeric passcode cannot be typed on a phone),
-- and Teams' meeting ID for joining by ID (with its passcode).
ALTER TABLE meetings ADD COLUMN phone_passcode TEXT NOT NULL DEFAULT '';
ALTER TABLE meetings ADD COLUMN meeting_code TEXT NOT NULL DEFAULT '';
