"""The embedded demo database: a small shop, generated deterministically on first use.

About 140,000 rows over customers, suppliers, categories, products, orders, order_items,
payments, reviews and inventory_events, from a fixed seed, so every machine gets the same data
and the same query plans. Built into a temporary file and renamed into place: an interrupted
build never leaves a half-made database behind. Some foreign keys are deliberately left without
an index so the analyzer has real advice to give.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
from pathlib import Path

from aishell.engine.files import private_file

SEED = 20240601
N_CUSTOMERS = 6_000
N_SUPPLIERS = 120
N_PRODUCTS = 2_000
N_ORDERS = 26_000
N_REVIEWS = 8_000
N_INVENTORY = 10_000

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    country TEXT NOT NULL,
    city TEXT NOT NULL,
    created_at TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE suppliers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    rating REAL
);
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES categories(id)
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories(id),
    supplier_id INTEGER REFERENCES suppliers(id),
    price NUMERIC NOT NULL,
    cost NUMERIC NOT NULL,
    stock INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL,
    ordered_at TEXT NOT NULL,
    shipped_at TEXT,
    total NUMERIC NOT NULL,
    shipping_country TEXT NOT NULL
);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    unit_price NUMERIC NOT NULL,
    discount REAL NOT NULL DEFAULT 0
);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    method TEXT NOT NULL,
    amount NUMERIC NOT NULL,
    paid_at TEXT NOT NULL
);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE inventory_events (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products(id),
    change INTEGER NOT NULL,
    reason TEXT NOT NULL,
    happened_at TEXT NOT NULL
);
CREATE INDEX orders_customer_id ON orders(customer_id);
CREATE INDEX orders_ordered_at ON orders(ordered_at);
CREATE INDEX order_items_order_id ON order_items(order_id);
CREATE INDEX products_category_id ON products(category_id);
CREATE INDEX reviews_product_id ON reviews(product_id);
CREATE VIEW order_totals AS
    SELECT o.id AS order_id, o.customer_id, sum(oi.quantity * oi.unit_price) AS items_total
    FROM orders o JOIN order_items oi ON oi.order_id = o.id
    GROUP BY o.id, o.customer_id;
"""

FIRST = ("Ada Alan Grace Linus Ken Dennis Barbara Edsger Donald Margaret Tim Guido Bjarne Anders "
         "Yukihiro Rasmus James Brendan Larry Frances Radia Hedy Katherine Annie Sophie Lea Marta").split()
LAST = ("Lovelace Turing Hopper Torvalds Thompson Ritchie Liskov Dijkstra Knuth Hamilton Berners-Lee "
        "Rossum Stroustrup Hejlsberg Matsumoto Lerdorf Gosling Eich Wall Allen Perlman Lamarr Johnson "
        "Easley Wilson Nguyen Garcia Okafor Schmidt Rossi").split()
PLACES = [
    ("DE", "Berlin"), ("DE", "Hamburg"), ("FR", "Paris"), ("FR", "Lyon"), ("GB", "London"),
    ("GB", "Leeds"), ("US", "Boston"), ("US", "Austin"), ("US", "Seattle"), ("JP", "Osaka"),
    ("JP", "Tokyo"), ("BR", "Recife"), ("IN", "Pune"), ("NG", "Lagos"), ("IT", "Turin"),
    ("ES", "Bilbao"), ("NL", "Utrecht"), ("CA", "Halifax"), ("AU", "Hobart"), ("SE", "Malmö"),
]
CATEGORIES = [
    ("Electronics", None), ("Books", None), ("Home", None), ("Garden", None), ("Sports", None),
    ("Toys", None), ("Clothing", None), ("Food", None),
    ("Laptops", 1), ("Phones", 1), ("Audio", 1), ("Cameras", 1), ("Fiction", 2), ("Science", 2),
    ("Kitchen", 3), ("Furniture", 3), ("Tools", 4), ("Plants", 4), ("Cycling", 5), ("Running", 5),
    ("Board games", 6), ("Outdoor", 6), ("Shoes", 7), ("Coffee", 8),
]
ADJECTIVES = "Compact Deluxe Eco Classic Smart Ultra Pro Mini Rugged Silent Swift Bright".split()
NOUNS = "Kettle Lamp Speaker Jacket Backpack Router Notebook Bottle Chair Drone Watch Mug Tent Puzzle Bike Saw".split()
STATUSES = ("delivered",) * 7 + ("shipped",) * 2 + ("pending", "cancelled", "refunded")
METHODS = ("card", "card", "card", "paypal", "bank_transfer", "voucher")
REASONS = ("restock", "sale", "return", "damage", "audit")
TITLES = ("Great value", "Does the job", "Broke after a week", "Excellent", "Not as described",
          "Would buy again", "Too expensive", "Fast delivery", None, None)


def ensure_demo_database(path: Path) -> Path:
    """The demo database at ``path``, generated first if missing. Returns the path."""
    path = Path(path)
    if path.exists():
        return path
    tmp = private_file(path.with_name(f".{path.name}.{os.getpid()}.tmp"))  # SQLite keeps its 0600
    try:
        build(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def build(path: Path) -> int:
    """Write the demo database to ``path``; returns the number of rows inserted."""
    rng = random.Random(SEED)
    start = dt.datetime(2023, 1, 1)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        total = 0

        def ts(max_days: int, base: dt.datetime = start) -> str:
            return (base + dt.timedelta(seconds=rng.randrange(max_days * 86_400))).isoformat(sep=" ")

        customers = []
        for i in range(1, N_CUSTOMERS + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            country, city = rng.choice(PLACES)
            customers.append((i, f"{first}.{last}.{i}@example.com".lower(), first, last, country, city,
                              ts(700), int(rng.random() > 0.08)))
        conn.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?)", customers)
        total += len(customers)

        suppliers = [(i, f"{rng.choice(LAST)} {rng.choice(('Trading', 'Supply', 'GmbH', 'Ltd', 'Co'))}",
                      rng.choice(PLACES)[0], round(rng.uniform(2.5, 5.0), 1)) for i in range(1, N_SUPPLIERS + 1)]
        conn.executemany("INSERT INTO suppliers VALUES (?,?,?,?)", suppliers)
        conn.executemany("INSERT INTO categories VALUES (?,?,?)", [(i, n, p) for i, (n, p) in enumerate(CATEGORIES, 1)])
        total += len(suppliers) + len(CATEGORIES)

        products, prices = [], []
        for i in range(1, N_PRODUCTS + 1):
            price = round(rng.lognormvariate(3.2, 0.9), 2) + 0.99
            prices.append(price)
            products.append((i, f"SKU-{i:06d}", f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {i}",
                             rng.randint(1, len(CATEGORIES)), rng.randint(1, N_SUPPLIERS) if rng.random() > 0.05 else None,
                             price, round(price * rng.uniform(0.4, 0.8), 2), rng.randint(0, 500), ts(300)))
        conn.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?)", products)
        total += len(products)

        orders, items, payments = [], [], []
        item_id = 0
        for i in range(1, N_ORDERS + 1):
            customer = rng.randint(1, N_CUSTOMERS)
            ordered = start + dt.timedelta(seconds=rng.randrange(700 * 86_400))
            status = rng.choice(STATUSES)
            shipped = (ordered + dt.timedelta(hours=rng.randint(4, 120))).isoformat(sep=" ") if status in ("delivered", "shipped", "refunded") else None
            order_total = 0.0
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5))):
                item_id += 1
                product = rng.randint(1, N_PRODUCTS)
                qty = rng.choice((1, 1, 1, 2, 2, 3, 5))
                discount = rng.choice((0, 0, 0, 0.05, 0.1, 0.2))
                items.append((item_id, i, product, qty, prices[product - 1], discount))
                order_total += qty * prices[product - 1] * (1 - discount)
            order_total = round(order_total, 2)
            orders.append((i, customer, status, ordered.isoformat(sep=" "), shipped, order_total, customers[customer - 1][4]))
            if status != "pending":
                payments.append((len(payments) + 1, i, rng.choice(METHODS), order_total,
                                 (ordered + dt.timedelta(minutes=rng.randint(1, 90))).isoformat(sep=" ")))
        conn.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?)", orders)
        conn.executemany("INSERT INTO order_items VALUES (?,?,?,?,?,?)", items)
        conn.executemany("INSERT INTO payments VALUES (?,?,?,?,?)", payments)
        total += len(orders) + len(items) + len(payments)

        reviews = [(i, rng.randint(1, N_PRODUCTS), rng.randint(1, N_CUSTOMERS), rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 6))[0],
                    rng.choice(TITLES), ts(700)) for i in range(1, N_REVIEWS + 1)]
        conn.executemany("INSERT INTO reviews VALUES (?,?,?,?,?,?)", reviews)
        events = [(i, rng.randint(1, N_PRODUCTS), rng.choice((-5, -2, -1, -1, 1, 10, 25, 50)), rng.choice(REASONS), ts(700))
                  for i in range(1, N_INVENTORY + 1)]
        conn.executemany("INSERT INTO inventory_events VALUES (?,?,?,?,?)", events)
        total += len(reviews) + len(events)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode = WAL")
        return total
    finally:
        conn.close()
