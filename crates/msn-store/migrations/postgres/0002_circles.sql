-- Circles (MSNP18 group conversations): a circle and its members, as
-- SQLite's migration 0008. A member's row goes with their account; a
-- circle goes when its admin deletes it (its members' rows with it).
CREATE TABLE circles (
    -- The circle's GUID, lower case (00000000-0000-0000-0009-…).
    id         TEXT   COLLATE "C" PRIMARY KEY,
    -- Its display name as decoded text.
    name       TEXT   NOT NULL,
    -- Unix seconds (UTC).
    created_at BIGINT NOT NULL
);

CREATE TABLE circle_members (
    circle_id  TEXT   COLLATE "C" NOT NULL REFERENCES circles(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- RelationshipRole: 1 admin, 2 assistant admin, 3 member.
    role       BIGINT NOT NULL,
    -- RelationshipState: 1 invited (waiting), 3 accepted.
    state      BIGINT NOT NULL,
    -- Who invited the member (NULL for the creator, or a deleted account).
    inviter_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    -- Order of joining the list.
    seq        BIGINT NOT NULL,
    PRIMARY KEY (circle_id, user_id)
);

CREATE INDEX circle_members_by_user ON circle_members(user_id);
