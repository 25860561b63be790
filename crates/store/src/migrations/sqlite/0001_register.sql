CREATE TABLE objects (
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE changesets (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE history (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    changeset INTEGER NOT NULL REFERENCES changesets(id),
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    object_id TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    revision  INTEGER NOT NULL,
    changes   TEXT    NOT NULL,
    body      TEXT    NOT NULL
);
CREATE INDEX history_by_object ON history (kind, object_id, seq);
