-- Accounts deleted or whose credentials changed, in order: a running
-- server follows this log to end the sessions of such accounts, even when
-- the change was made by another process (`msnd user del`/`passwd`).
CREATE TABLE account_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    handle TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('deleted', 'credentials')),
    at INTEGER NOT NULL
);
