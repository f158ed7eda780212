-- Invitation codes for the sign-up page (msnd invite create). Each one
-- creates one account: spending it and creating the account are one
-- transaction. used_by is the handle text, kept after that account is
-- deleted (no foreign key), so that an operator can see who used it.
CREATE TABLE invites (
    code       TEXT    PRIMARY KEY,
    created_at INTEGER NOT NULL,
    used_by    TEXT,
    used_at    INTEGER
);
