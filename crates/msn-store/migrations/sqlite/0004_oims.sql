-- Offline messages (OIM, MSNP13+) waiting for their recipient, in arrival
-- order (seq). Deleted with the recipient's account; the sender is only a
-- name here, so a message outlives its sender's account.
CREATE TABLE oims (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The message id clients name it by (a GUID, upper case).
    id           TEXT    NOT NULL UNIQUE,
    recipient_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sender       TEXT    NOT NULL,
    -- The sender's display name as decoded text.
    sender_name  TEXT    NOT NULL,
    -- The sending client's run id (a GUID) and sequence number.
    run_id       TEXT    NOT NULL,
    sequence_num INTEGER NOT NULL,
    -- The sending client's address as the server saw it.
    origin       TEXT    NOT NULL,
    -- Unix seconds (UTC) when the message was stored.
    received_at  INTEGER NOT NULL,
    -- The message text, UTF-8.
    body         TEXT    NOT NULL
);

CREATE INDEX oims_by_recipient ON oims(recipient_id, seq);
