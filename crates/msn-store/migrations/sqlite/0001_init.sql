-- Accounts, their settings and their list version.
CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    handle           TEXT    NOT NULL UNIQUE,
    friendly_name    TEXT    NOT NULL,
    -- argon2id PHC string, used by every Passport/SSO login.
    password_hash    TEXT    NOT NULL,
    -- Clear-text password, stored only for accounts that opted in to the
    -- MSNP2-7 MD5 login (msnd user add --legacy-md5). NULL otherwise.
    legacy_password  TEXT,
    verified         INTEGER NOT NULL DEFAULT 1,
    privacy          TEXT    NOT NULL DEFAULT 'AL',
    add_alert        TEXT    NOT NULL DEFAULT 'A',
    list_version     INTEGER NOT NULL DEFAULT 0,
    phone_home       TEXT,
    phone_work       TEXT,
    phone_mobile     TEXT,
    mobile_messages  INTEGER NOT NULL DEFAULT 0,
    mobile_device    INTEGER NOT NULL DEFAULT 0,
    personal_message BLOB,
    created_at       INTEGER NOT NULL
);

-- Contact groups; group 0 always exists.
CREATE TABLE contact_groups (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    id      INTEGER NOT NULL,
    guid    TEXT    NOT NULL,
    name    TEXT    NOT NULL,
    PRIMARY KEY (user_id, id)
);

-- One row per handle on any of a user's lists (bits: FL 1, AL 2, BL 4,
-- RL 8, PL 16). group_mask: bit n = member of group n (FL only).
CREATE TABLE contacts (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    handle     TEXT    NOT NULL,
    lists      INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    guid       TEXT,
    group_mask INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, handle)
) WITHOUT ROWID;

CREATE INDEX contacts_by_handle ON contacts(handle);
