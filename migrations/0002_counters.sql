-- Running counters and fewer pages written per event.
--
-- 1. The counters every Stats call, cap check, dashboard and scrape reads, kept in the
--    same transactions as the changes they count, so that no hot path runs COUNT(*).
--    On a database written by an older version they are computed here, once.
-- 2. The events table without AUTOINCREMENT: the sqlite_sequence row it updates was one
--    more page written per commit. Ids are still never reused: edgeoutbox assigns them
--    from next_id in the counters row, which only grows.
-- 3. Indexes for every query a page, a scrape or an emit runs. Indexes that only
--    published and dead-lettered rows enter are written by the relay, a batch at a time,
--    never by Emit: an emit writes the table, the key index, the pending index and the
--    counters row, nothing else.
ALTER TABLE edgeoutbox_usage ADD COLUMN next_id INTEGER NOT NULL DEFAULT 1;
UPDATE edgeoutbox_usage SET next_id = 1 + MAX(
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'edgeoutbox_events'), 0),
    COALESCE((SELECT MAX(id) FROM edgeoutbox_events), 0))
WHERE id = 1;

CREATE TABLE edgeoutbox_events_new (
    id               INTEGER PRIMARY KEY,
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
INSERT INTO edgeoutbox_events_new (id, idempotency_key, name, type, version, entity_class, entity_id,
        entity_version, payload, metadata, occurred_at, created_at, published_at, attempts,
        next_attempt_at, last_error, last_error_class, dead_lettered_at, size_bytes)
    SELECT id, idempotency_key, name, type, version, entity_class, entity_id,
        entity_version, payload, metadata, occurred_at, created_at, published_at, attempts,
        next_attempt_at, last_error, last_error_class, dead_lettered_at, size_bytes
    FROM edgeoutbox_events ORDER BY id;
DROP TABLE edgeoutbox_events;
ALTER TABLE edgeoutbox_events_new RENAME TO edgeoutbox_events;

-- Pending events in id order: the claim's scan, the per-entity hold-back check and
-- pending lists filtered by entity read this index alone (it covers them).
CREATE INDEX edgeoutbox_events_pending
    ON edgeoutbox_events (id, next_attempt_at, entity_class, entity_id)
    WHERE published_at IS NULL AND dead_lettered_at IS NULL;
-- Pending events of one name, newest first: one more page per emit, for lists by name
-- whose cost must not grow with a backlog of other names.
CREATE INDEX edgeoutbox_events_pending_name
    ON edgeoutbox_events (name, id) WHERE published_at IS NULL AND dead_lettered_at IS NULL;
-- Retention by age; the publish latency of the newest published events (covering).
CREATE INDEX edgeoutbox_events_published
    ON edgeoutbox_events (published_at, created_at) WHERE published_at IS NOT NULL;
CREATE INDEX edgeoutbox_events_dead
    ON edgeoutbox_events (dead_lettered_at) WHERE dead_lettered_at IS NOT NULL;
-- Lists of published and dead-lettered events by name or by entity, newest first.
CREATE INDEX edgeoutbox_events_done_name
    ON edgeoutbox_events (name, id) WHERE published_at IS NOT NULL OR dead_lettered_at IS NOT NULL;
CREATE INDEX edgeoutbox_events_done_entity
    ON edgeoutbox_events (entity_class, entity_id, id) WHERE published_at IS NOT NULL OR dead_lettered_at IS NOT NULL;
CREATE INDEX edgeoutbox_events_done_id
    ON edgeoutbox_events (id) WHERE published_at IS NOT NULL OR dead_lettered_at IS NOT NULL;
-- Dead letters newest first; also how a publish finds the rare dead letter it revives.
CREATE INDEX edgeoutbox_events_dead_id
    ON edgeoutbox_events (id) WHERE dead_lettered_at IS NOT NULL;

-- The counters, beside the byte total in the one row every emit already writes.
-- generation grows whenever events become due out of id order (a dead letter retried),
-- so that a relay which skips what it already swept knows to look again from the start.
ALTER TABLE edgeoutbox_usage ADD COLUMN pending       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE edgeoutbox_usage ADD COLUMN published     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE edgeoutbox_usage ADD COLUMN dead_lettered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE edgeoutbox_usage ADD COLUMN generation    INTEGER NOT NULL DEFAULT 0;
UPDATE edgeoutbox_usage SET
    pending       = (SELECT COUNT(*) FROM edgeoutbox_events WHERE published_at IS NULL AND dead_lettered_at IS NULL),
    published     = (SELECT COUNT(*) FROM edgeoutbox_events WHERE published_at IS NOT NULL),
    dead_lettered = (SELECT COUNT(*) FROM edgeoutbox_events WHERE published_at IS NULL AND dead_lettered_at IS NOT NULL),
    bytes         = (SELECT COALESCE(SUM(size_bytes), 0) FROM edgeoutbox_events)
WHERE id = 1;

-- The lease holder's LeaseTTL: an expiry further ahead than that was stamped by a clock
-- since stepped back, and counts as expired.
ALTER TABLE edgeoutbox_leases ADD COLUMN ttl INTEGER NOT NULL DEFAULT 0;

-- Events published and dead-lettered per minute (Unix minute), for throughput charts;
-- maintenance keeps the last day.
CREATE TABLE edgeoutbox_throughput (
    minute        INTEGER PRIMARY KEY,
    published     INTEGER NOT NULL DEFAULT 0,
    dead_lettered INTEGER NOT NULL DEFAULT 0
);
