"""Schema and migrations, tracked by `PRAGMA user_version`.

Each migration is a list of SQL statements applied in one transaction; the version is bumped in
the same transaction, so a crash mid-migration leaves the previous version intact.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: the first schema
    [
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL DEFAULT '',
            canonical_url TEXT,
            content_hash TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            published TEXT,
            lang TEXT NOT NULL DEFAULT 'other',
            lang_confidence REAL NOT NULL DEFAULT 0,
            origin TEXT NOT NULL DEFAULT '',
            ingested_at TEXT NOT NULL,
            checked_at TEXT
        )""",
        "CREATE UNIQUE INDEX articles_canonical_url ON articles(canonical_url)"
        " WHERE canonical_url IS NOT NULL",
        "CREATE INDEX articles_unchecked ON articles(id) WHERE checked_at IS NULL",
        "CREATE INDEX articles_ingested ON articles(ingested_at)",
        """CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, text, content='articles', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END""",
        """CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        END""",
        """CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
            INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END""",
        """CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            interval_seconds INTEGER NOT NULL,
            etag TEXT,
            last_modified TEXT,
            last_polled_at TEXT,
            next_poll_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )""",
        """CREATE TABLE keywords (
            id INTEGER PRIMARY KEY,
            query TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            address TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            language TEXT NOT NULL,
            follow_all INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            inactive_reason TEXT,
            created_at TEXT NOT NULL,
            UNIQUE(platform, address)
        )""",
        """CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            keyword_id INTEGER NOT NULL REFERENCES keywords(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, keyword_id)
        )""",
        "CREATE INDEX subscriptions_keyword ON subscriptions(keyword_id)",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            keywords TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT NOT NULL,
            lease_until TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            message_id TEXT,
            UNIQUE(article_id, chat_id)
        )""",
        "CREATE INDEX outbox_due ON outbox(status, next_attempt_at)",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    ],
    # 2: keywords found by their normalised text through an index (store.keywords.keyword_norm;
    # rows whose norm differs from lower(query), i.e. non-ASCII ones, are refreshed on start)
    [
        "ALTER TABLE keywords ADD COLUMN norm TEXT NOT NULL DEFAULT ''",
        "UPDATE keywords SET norm = lower(query)",
        "CREATE INDEX keywords_norm ON keywords(norm)",
    ],
    # 3: send slots and retry-after blocks shared by every process on the store (store/pacing.py)
    [
        """CREATE TABLE pacing_slots (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            target TEXT NOT NULL,
            at REAL NOT NULL,
            done REAL
        )""",
        "CREATE INDEX pacing_slots_target ON pacing_slots(platform, target, at)",
        "CREATE INDEX pacing_slots_at ON pacing_slots(platform, at)",
        "CREATE INDEX pacing_slots_done ON pacing_slots(platform, done)",
        """CREATE TABLE pacing_blocks (
            platform TEXT NOT NULL,
            target TEXT NOT NULL,
            until REAL NOT NULL,
            PRIMARY KEY (platform, target)
        )""",
    ],
    # 4: feeds managed from chat and CLI (store/feeds.py): who added a feed and from which chat,
    # the last good poll, since when it fails and whether the admins were told
    [
        "ALTER TABLE feeds ADD COLUMN added_at TEXT",
        "ALTER TABLE feeds ADD COLUMN added_by TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE feeds ADD COLUMN added_chat_id INTEGER",
        "ALTER TABLE feeds ADD COLUMN last_ok_at TEXT",
        "ALTER TABLE feeds ADD COLUMN failing_since TEXT",
        "ALTER TABLE feeds ADD COLUMN failure_notified_at TEXT",
        "UPDATE feeds SET last_ok_at = last_polled_at WHERE failures = 0",
    ],
    # 5: claim_due reads due rows in claim order from an index (no sort of every due row)
    [
        "CREATE INDEX outbox_claim ON outbox(next_attempt_at, id)"
        " WHERE status IN ('pending', 'sending')",
    ],
    # 6: stories (bot/stories): one features row per article and one row per index key,
    # found by (key, published); each outbox row knows its story and, for a later article of a
    # story already alerted to the chat, the row of that first message (head_id) it edits.
    # Articles stored before this migration are assigned in id order at the next ingest or
    # start (meta 'stories_backfill_upto').
    [
        """CREATE TABLE story_articles (
            article_id INTEGER PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
            story_id INTEGER NOT NULL,
            published TEXT NOT NULL,
            lang TEXT NOT NULL,
            features TEXT NOT NULL
        )""",
        "CREATE INDEX story_articles_story ON story_articles(story_id)",
        """CREATE TABLE story_keys (
            key TEXT NOT NULL,
            published TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE
        )""",
        "CREATE INDEX story_keys_by_key ON story_keys(key, published)",
        "CREATE INDEX story_keys_article ON story_keys(article_id)",
        "ALTER TABLE outbox ADD COLUMN story_id INTEGER",
        "ALTER TABLE outbox ADD COLUMN head_id INTEGER",
        "ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'send'",
        "CREATE UNIQUE INDEX outbox_story_head ON outbox(story_id, chat_id)"
        " WHERE head_id IS NULL AND story_id IS NOT NULL",
        "CREATE INDEX outbox_head ON outbox(head_id) WHERE head_id IS NOT NULL",
        "INSERT OR REPLACE INTO meta (key, value) SELECT 'stories_backfill_upto',"
        " CAST(COALESCE(MAX(id), 0) AS TEXT) FROM articles",
    ],
    # 7: story candidates are read newest first with the article id as tie-breaker
    # (store/stories.py recent): the index serves that whole order, so a key shared by many
    # articles published at one moment is never sorted
    [
        "CREATE INDEX story_keys_order ON story_keys(key, published, article_id)",
        "DROP INDEX story_keys_by_key",
    ],
    # 8: delivery modes (bot/delivery/digests.py): per-chat digest mode, quiet hours, pause and
    # time zone on the chat row; `hold` = the chat's new alerts wait (status 'held') instead of
    # going at once. A digest is its messages (digest_parts, rendered once and stored): each
    # part's outbox rows are bound to it (status 'digest', digest_id) and marked sent in the
    # transaction that records the part's message.
    [
        "ALTER TABLE chats ADD COLUMN digest TEXT NOT NULL DEFAULT 'off'",
        "ALTER TABLE chats ADD COLUMN digest_at TEXT NOT NULL DEFAULT '07:00'",
        "ALTER TABLE chats ADD COLUMN quiet_start TEXT",
        "ALTER TABLE chats ADD COLUMN quiet_end TEXT",
        "ALTER TABLE chats ADD COLUMN paused_until TEXT",
        "ALTER TABLE chats ADD COLUMN paused_at TEXT",
        "ALTER TABLE chats ADD COLUMN timezone TEXT",
        "ALTER TABLE chats ADD COLUMN hold INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chats ADD COLUMN last_digest_at TEXT",
        "ALTER TABLE outbox ADD COLUMN digest_id INTEGER",
        "CREATE INDEX outbox_held ON outbox(chat_id, status) WHERE status IN ('held', 'digest')",
        """CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            period_start TEXT,
            status TEXT NOT NULL DEFAULT 'sending',
            lease_until TEXT,
            next_attempt_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            sent_at TEXT
        )""",
        "CREATE INDEX digests_open ON digests(chat_id) WHERE status = 'sending'",
        """CREATE TABLE digest_parts (
            id INTEGER PRIMARY KEY,
            digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            payload TEXT NOT NULL,
            row_ids TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            message_id TEXT,
            sent_at TEXT,
            UNIQUE(digest_id, seq)
        )""",
    ],
    # 9: per-chat blocked words (store/actions.py; `norm` is the
    # casefolded canonical query, one row per chat and norm) and the changes made by alert
    # buttons, kept so an undo restores exactly what the press changed (and the alert's
    # keyboard before the press, JSON [[label, data], ...]; a pause press keeps the chat's
    # paused_until / paused_at before it, NULL when it was not paused)
    [
        """CREATE TABLE blocked_words (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            query TEXT NOT NULL,
            norm TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT '',
            UNIQUE(chat_id, norm)
        )""",
        """CREATE TABLE chat_actions (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            keyword_id INTEGER,
            was_subscribed INTEGER NOT NULL DEFAULT 0,
            was_follow_all INTEGER NOT NULL DEFAULT 0,
            keyboard TEXT NOT NULL DEFAULT '[]',
            actor TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            undone_at TEXT,
            was_paused_until TEXT,
            was_paused_at TEXT
        )""",
        "CREATE INDEX chat_actions_chat ON chat_actions(chat_id)",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)

# PostgreSQL (store/pg_schema.py): every migration above has a PostgreSQL form with the same
# number. Written in the portable subset -- CREATE TABLE (`id INTEGER PRIMARY KEY` ids, TEXT
# times, INTEGER / REAL / TEXT / BLOB columns), ALTER TABLE ... ADD COLUMN, CREATE [UNIQUE]
# INDEX (partial ones too), DROP INDEX, and data statements in store/postgres.py's query
# subset -- it is translated automatically (INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, an
# `id INTEGER PRIMARY KEY` -> an identity column). A statement with no translation (a virtual
# table, a trigger, a SQLite function) needs its PostgreSQL statements in
# store/pg_schema.py OVERRIDES[number]; without one, opening a PostgreSQL store fails.
