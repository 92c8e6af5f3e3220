-- Sessions: every token carries the user's session epoch at issue time; a
-- password change or a revocation raises it, and older tokens stop working.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0 CHECK (session_epoch >= 0);
