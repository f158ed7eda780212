-- Friendly names are kept as text from now on; they were stored in the
-- URL-encoded form each client sent. SQL cannot decode them, so this
-- leaves a marker: the store decodes the names that are there once, in
-- the same transaction that drops the marker (SqliteStore::open).
CREATE TABLE pending_name_decoding (marker INTEGER NOT NULL);
INSERT INTO pending_name_decoding VALUES (1);
