-- People who sign in to the web application, and their credentials. Passwords are stored only
-- as argon2id PHC strings; sessions and API tokens only as the SHA-256 of the secret.
CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    person_id     TEXT,
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TEXT NOT NULL
);

-- kind: 'session' (browser, has a CSRF token and an expiry) or 'token' (API, named).
CREATE TABLE credentials (
    secret_sha256 TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    username      TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    csrf          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    expires_at    TEXT
);
CREATE INDEX credentials_by_user ON credentials (username);
