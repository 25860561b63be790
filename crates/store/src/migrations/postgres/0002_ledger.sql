-- The evidence ledger: an append-only RFC 9162 Merkle log. Leaves commit to payload
-- hashes only, so payloads live apart and can be erased without breaking proofs.
CREATE TABLE ledger_state (
    id                 BIGINT  PRIMARY KEY CHECK (id = 1),
    size               BIGINT  NOT NULL,
    origin             TEXT,
    verifier_key       TEXT,
    last_checkpoint_at TEXT
);
INSERT INTO ledger_state (id, size) VALUES (1, 0);
CREATE TABLE ledger_entries (
    idx       BIGINT  PRIMARY KEY,
    leaf      BYTEA    NOT NULL,
    leaf_hash BYTEA    NOT NULL
);
CREATE TABLE ledger_payloads (
    idx           BIGINT  PRIMARY KEY,
    payload       BYTEA,
    erased_at     TEXT,
    erased_by     TEXT,
    erased_reason TEXT
);
-- Complete subtrees above the leaves (level >= 1), for proofs without rehashing.
CREATE TABLE ledger_nodes (
    level BIGINT  NOT NULL,
    idx   BIGINT  NOT NULL,
    hash  BYTEA    NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE ledger_checkpoints (
    size       BIGINT  PRIMARY KEY,
    note       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE history ADD COLUMN ledger_idx BIGINT;
-- Evidence files, stored once by content hash, linked to register objects.
CREATE TABLE evidence_blobs (
    sha256  TEXT    PRIMARY KEY,
    size    BIGINT  NOT NULL,
    content BYTEA    NOT NULL
);
CREATE TABLE evidence (
    id         BIGSERIAL PRIMARY KEY,
    sha256     TEXT    NOT NULL REFERENCES evidence_blobs(sha256),
    target     TEXT    NOT NULL,
    file_name  TEXT    NOT NULL,
    note       TEXT    NOT NULL,
    ledger_idx BIGINT  NOT NULL,
    created_at TEXT    NOT NULL,
    created_by TEXT    NOT NULL
);
CREATE INDEX evidence_by_target ON evidence (target);
