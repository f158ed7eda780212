-- The schema of SQLite migrations 0001-0007 as PostgreSQL starts with it
-- (a PostgreSQL database never held the older layouts, so it has no
-- upgrade steps of its own). Times are Unix seconds, as in SQLite; GUIDs
-- are text in the same spelling.

-- Accounts, their settings and their list version.
CREATE TABLE users (
    id               BIGSERIAL PRIMARY KEY,
    -- "C": sorted byte-wise, as SQLite sorts (exports, user lists).
    handle           TEXT    COLLATE "C" NOT NULL UNIQUE,
    -- Decoded text.
    friendly_name    TEXT    NOT NULL,
    -- PHC string (argon2id, or a foreign hash until the next sign-in).
    password_hash    TEXT    NOT NULL,
    -- Clear-text password, only for accounts that opted in to the MSNP2-7
    -- MD5 login (msnd user add --legacy-md5). NULL otherwise.
    legacy_password  TEXT,
    verified         BOOLEAN NOT NULL DEFAULT TRUE,
    -- Disabled by an operator (msnd user disable): no login succeeds.
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    privacy          TEXT    NOT NULL DEFAULT 'AL',
    add_alert        TEXT    NOT NULL DEFAULT 'A',
    -- Advanced only by `UPDATE ... SET list_version = list_version + 1`
    -- under the row's lock, so it never goes back, whichever node writes.
    list_version     BIGINT  NOT NULL DEFAULT 0,
    phone_home       TEXT,
    phone_work       TEXT,
    phone_mobile     TEXT,
    mobile_messages  BOOLEAN NOT NULL DEFAULT FALSE,
    mobile_device    BOOLEAN NOT NULL DEFAULT FALSE,
    -- The <Data> document, bytes as the client wrote them.
    personal_message BYTEA,
    created_at       BIGINT  NOT NULL
);

-- Contact groups; group 0 always exists.
CREATE TABLE contact_groups (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    id      BIGINT NOT NULL,
    guid    TEXT   NOT NULL,
    name    TEXT   NOT NULL,
    PRIMARY KEY (user_id, id)
);

-- One row per handle on any of a user's lists (bits: FL 1, AL 2, BL 4,
-- RL 8, PL 16), or an address-book contact on none (guid set). Network id:
-- 1 Passport, 4 phone, 9 circle, 32 e-mail.
CREATE TABLE contacts (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    handle  TEXT   COLLATE "C" NOT NULL,
    lists   BIGINT NOT NULL,
    name    TEXT   NOT NULL,
    guid    TEXT,
    network BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, handle)
);

CREATE INDEX contacts_by_handle ON contacts(handle);

-- One row per (entry, group): FL entries only, never none (group 0 is
-- "Other Contacts"). Changed by deltas, so concurrent edits of different
-- groups keep each other.
CREATE TABLE contact_group_members (
    user_id  BIGINT NOT NULL,
    handle   TEXT   COLLATE "C" NOT NULL,
    group_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, handle, group_id),
    FOREIGN KEY (user_id, handle) REFERENCES contacts(user_id, handle) ON DELETE CASCADE,
    FOREIGN KEY (user_id, group_id) REFERENCES contact_groups(user_id, id) ON DELETE CASCADE
);

CREATE INDEX contact_group_members_by_group ON contact_group_members(user_id, group_id);

-- Accounts deleted, disabled or whose credentials changed, in order: every
-- running node follows this log to end the sessions of such accounts.
-- Writers take a transaction-level advisory lock before inserting, so rows
-- become visible in seq order and a follower never skips one.
CREATE TABLE account_changes (
    seq    BIGSERIAL PRIMARY KEY,
    handle TEXT   NOT NULL,
    kind   TEXT   NOT NULL CHECK (kind IN ('deleted', 'credentials', 'disabled')),
    at     BIGINT NOT NULL
);

-- Offline messages (OIM, MSNP13+) waiting for their recipient, in arrival
-- order (seq). Deleted with the recipient's account; the sender is only a
-- name here, so a message outlives its sender's account.
CREATE TABLE oims (
    seq          BIGSERIAL PRIMARY KEY,
    -- The message id clients name it by (a GUID, upper case).
    id           TEXT   NOT NULL UNIQUE,
    recipient_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sender       TEXT   NOT NULL,
    -- The sender's display name as decoded text.
    sender_name  TEXT   NOT NULL,
    -- The sending client's run id (a GUID) and sequence number.
    run_id       TEXT   NOT NULL,
    sequence_num BIGINT NOT NULL,
    -- The sending client's address as the server saw it.
    origin       TEXT   NOT NULL,
    -- Unix seconds (UTC) when the message was stored.
    received_at  BIGINT NOT NULL,
    -- The message text.
    body         TEXT   NOT NULL
);

CREATE INDEX oims_by_recipient ON oims(recipient_id, seq);

-- Invitation codes for the sign-up page (msnd invite create). Each one
-- creates one account: spending it and creating the account are one
-- transaction. used_by is the handle text, kept after that account is
-- deleted (no foreign key).
CREATE TABLE invites (
    code       TEXT   COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL,
    used_by    TEXT,
    used_at    BIGINT
);
