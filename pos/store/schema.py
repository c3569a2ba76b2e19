"""Schema of `pos.db`: the sales ledger of this data dir (carts, orders, outbox, numbering)."""

MIGRATIONS = [
    """
    CREATE TABLE sequences (lane TEXT PRIMARY KEY, next INTEGER NOT NULL);
    CREATE TABLE carts (
        id TEXT PRIMARY KEY,
        lane TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'parked')),
        label TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX carts_lane ON carts(lane, state);
    CREATE TABLE orders (
        number TEXT PRIMARY KEY,
        lane TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL,
        profile TEXT NOT NULL,
        backend TEXT NOT NULL,
        currency TEXT NOT NULL,
        total TEXT NOT NULL,
        customer TEXT NOT NULL DEFAULT '',
        cashier TEXT NOT NULL DEFAULT '',
        remote_id TEXT,
        last_error TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL
    );
    CREATE INDEX orders_created ON orders(created_at);
    CREATE INDEX orders_status ON orders(status);
    CREATE TABLE order_lines (
        number TEXT NOT NULL REFERENCES orders(number),
        idx INTEGER NOT NULL,
        product_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        options TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        unit_price TEXT NOT NULL,
        total TEXT NOT NULL,
        tax TEXT NOT NULL,
        PRIMARY KEY (number, idx)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL REFERENCES orders(number),
        target TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        remote_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (number, target, kind)
    );
    CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        number TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX events_number ON events(number);
    """,
]
