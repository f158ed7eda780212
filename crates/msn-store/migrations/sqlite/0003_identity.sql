-- The identity model for MSNP13+: a contact's network, and group
-- membership as rows instead of the 30-bit group_mask.

-- Network id of each entry (1 Passport, 4 phone, 9 circle, 32 e-mail);
-- every entry so far is a Passport contact.
ALTER TABLE contacts ADD COLUMN network INTEGER NOT NULL DEFAULT 1;

-- One row per (entry, group): FL entries only, never none (group 0 is
-- "Other Contacts"). Changed by deltas, so concurrent edits of different
-- groups keep each other.
CREATE TABLE contact_group_members (
    user_id  INTEGER NOT NULL,
    handle   TEXT    NOT NULL,
    group_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, handle, group_id),
    FOREIGN KEY (user_id, handle) REFERENCES contacts(user_id, handle) ON DELETE CASCADE,
    FOREIGN KEY (user_id, group_id) REFERENCES contact_groups(user_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE INDEX contact_group_members_by_group ON contact_group_members(user_id, group_id);

INSERT INTO contact_group_members (user_id, handle, group_id)
SELECT c.user_id, c.handle, g.id
FROM contacts c JOIN contact_groups g ON g.user_id = c.user_id
WHERE c.lists & 1 AND g.id < 30 AND (c.group_mask >> g.id) & 1;

-- An FL entry whose mask named no existing group is in group 0.
INSERT INTO contact_group_members (user_id, handle, group_id)
SELECT c.user_id, c.handle, 0
FROM contacts c
WHERE c.lists & 1
  AND EXISTS (SELECT 1 FROM contact_groups g WHERE g.user_id = c.user_id AND g.id = 0)
  AND NOT EXISTS (
    SELECT 1 FROM contact_group_members m WHERE m.user_id = c.user_id AND m.handle = c.handle
  );

ALTER TABLE contacts DROP COLUMN group_mask;
