-- An operator may disable an account (msnd user disable): it cannot sign
-- in and its sessions are ended; enabling it again changes nothing else.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;

-- The change log learns the new kind (SQLite cannot alter a CHECK: the
-- table is rebuilt, its sequence numbers kept).
CREATE TABLE account_changes_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    handle TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('deleted', 'credentials', 'disabled')),
    at INTEGER NOT NULL
);
INSERT INTO account_changes_new (seq, handle, kind, at)
    SELECT seq, handle, kind, at FROM account_changes;
DROP TABLE account_changes;
ALTER TABLE account_changes_new RENAME TO account_changes;
