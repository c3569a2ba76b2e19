"""Schema of `pos.db`: the sales ledger of this data dir (carts, orders, outbox, numbering,
refunds, cash drawer, Z reports, cashiers). Add a new entry for a change; never edit an old one."""

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
    # 2: counter operations (refunds, cash drawer, Z reports, cashiers)
    """
    CREATE TABLE refunds (
        number TEXT PRIMARY KEY,
        order_number TEXT NOT NULL REFERENCES orders(number),
        lane TEXT NOT NULL,
        created_at TEXT NOT NULL,
        cashier TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL,
        method TEXT NOT NULL,
        currency TEXT NOT NULL,
        amount TEXT NOT NULL,
        tax TEXT NOT NULL,
        full INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL
    );
    CREATE INDEX refunds_order ON refunds(order_number);
    CREATE INDEX refunds_created ON refunds(created_at);
    CREATE TABLE refund_lines (
        refund_number TEXT NOT NULL REFERENCES refunds(number),
        line_key TEXT NOT NULL,
        product_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        amount TEXT NOT NULL,
        tax TEXT NOT NULL,
        PRIMARY KEY (refund_number, line_key)
    );
    CREATE TABLE cash_movements (
        id INTEGER PRIMARY KEY,
        lane TEXT NOT NULL,
        business_day TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('float', 'in', 'out', 'count')),
        amount TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        cashier TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX cash_movements_day ON cash_movements(lane, business_day);
    CREATE TABLE z_reports (
        lane TEXT NOT NULL,
        business_day TEXT NOT NULL,
        at TEXT NOT NULL,
        cashier TEXT NOT NULL DEFAULT '',
        data TEXT NOT NULL,
        PRIMARY KEY (lane, business_day)
    );
    CREATE TABLE cashiers (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        salt TEXT NOT NULL,
        pin_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1
    );
    """,
]
