-- The outbox: one row per event, never updated except by the relay and operators.
-- Times are Unix nanoseconds (UTC). AUTOINCREMENT so that an id is never reused, even
-- after retention deleted the highest one: transports and consumers may rely on it.
CREATE TABLE edgeoutbox_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    name             TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    entity_class     TEXT    NOT NULL DEFAULT '',
    entity_id        TEXT    NOT NULL DEFAULT '',
    entity_version   INTEGER,
    payload          TEXT    NOT NULL,
    metadata         TEXT,
    occurred_at      INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    published_at     INTEGER,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    last_error_class TEXT,
    dead_lettered_at INTEGER,
    size_bytes       INTEGER NOT NULL
);

-- Pending events in id order: the relay's "next due batch" is a range scan of this
-- partial index however many published rows the table holds. It covers what the
-- scheduler and the caps need without touching the table.
CREATE INDEX edgeoutbox_events_pending
    ON edgeoutbox_events (id, next_attempt_at, entity_class, entity_id, size_bytes)
    WHERE published_at IS NULL AND dead_lettered_at IS NULL;

-- Retention deletes published rows by age, and dead letters by age.
CREATE INDEX edgeoutbox_events_published
    ON edgeoutbox_events (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX edgeoutbox_events_dead
    ON edgeoutbox_events (dead_lettered_at) WHERE dead_lettered_at IS NOT NULL;

-- One relay per database file: the row for 'relay' names the owner and its expiry.
CREATE TABLE edgeoutbox_leases (
    name       TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Running total of the bytes (payload plus metadata) the outbox holds, kept in step by
-- every insert and delete so that the MaxOutboxBytes cap costs no table scan.
CREATE TABLE edgeoutbox_usage (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    bytes INTEGER NOT NULL
);
INSERT INTO edgeoutbox_usage (id, bytes) VALUES (1, 0);
