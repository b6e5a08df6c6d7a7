"""Catalogue use cases: the only code (with the bulk import beside it) that writes its tables.

Other packages price carts through `variants_for_sale`, one query for any number of variants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from retailos.catalog import events
from retailos.catalog.gtin import check_gtin
from retailos.catalog.models import STATUSES, Category, Price, Product, Variant
from retailos.catalog.package_size import unit_weight_grams
from retailos.core.clock import Clock
from retailos.core.errors import Conflict, InvalidInput, NotFound
from retailos.core.ids import new_id
from retailos.core.money import Money, check_currency
from retailos.core.outbox import publish
from retailos.core.pagination import paginate

# Bound parameters per IN list: far below SQLite's and PostgreSQL's limits.
_IN_CHUNK = 5_000


@dataclass(frozen=True)
class SaleableVariant:
    """What a cart needs to sell a variant: its name, its price in one currency, its weight."""

    variant_id: str
    sku: str
    title: str
    unit_price: Money
    unit_weight_g: int | None


@dataclass(frozen=True)
class VariantDraft:
    """A variant to create; `prices` maps ISO currency codes to amounts in minor units."""

    sku: str
    title: str | None = None
    gtin: str | None = None
    unit_weight_g: int | None = None
    package_size: str | None = None
    prices: Mapping[str, int] = field(default_factory=dict)


PRODUCT_FIELDS = frozenset({"title", "brand", "description", "category_id", "attributes"})
VARIANT_FIELDS = frozenset({"sku", "title", "gtin", "unit_weight_g", "package_size"})


# --- categories -------------------------------------------------------------------------------


def create_category(
    session: Session, clock: Clock, tenant_id: str, code: str, name: str,
    parent_id: str | None = None,
) -> Category:
    if parent_id is not None:
        _category_reference(session, tenant_id, parent_id, field_name="parent_id")
    existing = session.scalar(
        select(Category.id).where(Category.tenant_id == tenant_id, Category.code == code)
    )
    if existing is not None:
        raise Conflict(f"a category with code {code!r} exists", field="code", existing=existing)
    now = clock.now()
    category = Category(
        id=new_id("cat"), tenant_id=tenant_id, code=code, name=name, parent_id=parent_id,
        created_at=now, updated_at=now,
    )
    session.add(category)
    _flush_or_conflict(session, f"a category with code {code!r} exists")
    publish(session, clock, tenant_id, events.CATEGORY_CREATED, {"category_id": category.id})
    return category


def get_category(session: Session, tenant_id: str, category_id: str) -> Category:
    category = session.get(Category, category_id)
    if category is None or category.tenant_id != tenant_id:
        raise NotFound(f"no category {category_id}")
    return category


def list_categories(
    session: Session, tenant_id: str, *, parent_id: str | None = None, code: str | None = None,
    cursor: str | None = None, limit: int = 50,
) -> tuple[list[Category], str | None]:
    stmt = select(Category).where(Category.tenant_id == tenant_id)
    if parent_id is not None:
        stmt = stmt.where(Category.parent_id == parent_id)
    if code is not None:
        stmt = stmt.where(Category.code == code)
    rows, next_cursor = paginate(session, stmt, Category.id, cursor, limit)
    return list(rows), next_cursor


def _category_reference(
    session: Session, tenant_id: str, category_id: str, field_name: str
) -> None:
    """A category named in a request body must exist in the tenant: else the input is invalid."""
    found = session.scalar(
        select(Category.id).where(Category.tenant_id == tenant_id, Category.id == category_id)
    )
    if found is None:
        raise InvalidInput(f"no category {category_id}", field=field_name)


def _category_subtree(tenant_id: str, category_id: str) -> Select[Any]:
    """The ids of a category and all its descendants (a recursive query, both databases)."""
    tree = (
        select(Category.id)
        .where(Category.tenant_id == tenant_id, Category.id == category_id)
        .cte("category_tree", recursive=True)
    )
    child = select(Category.id).where(
        Category.tenant_id == tenant_id, Category.parent_id == tree.c.id
    )
    tree = tree.union_all(child)
    return select(tree.c.id)


# --- products ---------------------------------------------------------------------------------


def create_product(
    session: Session, clock: Clock, tenant_id: str, *, title: str,
    brand: str | None = None, description: str | None = None, category_id: str | None = None,
    attributes: Mapping[str, Any] | None = None, external_ref: str | None = None,
    variants: Sequence[VariantDraft] = (),
) -> Product:
    """A product with its variants and their prices, written together or not at all."""
    if not title.strip():
        raise InvalidInput("title must not be empty", field="title")
    if category_id is not None:
        _category_reference(session, tenant_id, category_id, field_name="category_id")
    if external_ref is not None:
        taken = session.scalar(select(Product.id).where(
            Product.tenant_id == tenant_id, Product.external_ref == external_ref))
        if taken is not None:
            raise Conflict(f"a product with external_ref {external_ref!r} exists",
                           field="external_ref", existing=taken)
    drafts = [_checked_draft(d, f"variants.{i}") for i, d in enumerate(variants)]
    _check_unique_codes(session, tenant_id, drafts)
    now = clock.now()
    product = Product(
        id=new_id("prod"), tenant_id=tenant_id, title=title.strip(), brand=brand,
        description=description, category_id=category_id, status="active",
        attributes=dict(attributes or {}), external_ref=external_ref,
        created_at=now, updated_at=now,
    )
    product.variants = [
        _new_variant(tenant_id, product.id, d, now, position=i) for i, d in enumerate(drafts)
    ]
    session.add(product)
    _flush_or_conflict(session, "a variant's sku or gtin, or the external_ref, is taken")
    publish(session, clock, tenant_id, events.PRODUCT_CREATED, events.product_payload(
        product.id, variant_ids=[v.id for v in product.variants]))
    return product


def get_product(session: Session, tenant_id: str, product_id: str) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.tenant_id != tenant_id:
        raise NotFound(f"no product {product_id}")
    return product


def list_products(
    session: Session, tenant_id: str, *, category_id: str | None = None,
    status: str | None = None, brand: str | None = None, q: str | None = None,
    external_ref: str | None = None, cursor: str | None = None, limit: int = 50,
) -> tuple[list[Product], str | None]:
    """Products in id order. `category_id` includes its subcategories; `q` matches every word
    against the title, the brand or a variant's SKU, ignoring case."""
    stmt = select(Product).where(Product.tenant_id == tenant_id)
    if category_id is not None:
        stmt = stmt.where(Product.category_id.in_(_category_subtree(tenant_id, category_id)))
    if status is not None:
        stmt = stmt.where(Product.status == _checked_status(status))
    if brand is not None:
        stmt = stmt.where(Product.brand == brand)
    if external_ref is not None:
        stmt = stmt.where(Product.external_ref == external_ref)
    sqlite = session.get_bind().dialect.name == "sqlite"
    for word in (q or "").split():
        pattern = f"%{_escape_like(word)}%"
        by_sku = select(Variant.product_id).where(
            Variant.tenant_id == tenant_id, _contains(Variant.sku, pattern, sqlite))
        stmt = stmt.where(or_(
            _contains(Product.title, pattern, sqlite), _contains(Product.brand, pattern, sqlite),
            Product.id.in_(by_sku),
        ))
    rows, next_cursor = paginate(session, stmt, Product.id, cursor, limit)
    return list(rows), next_cursor


def update_product(
    session: Session, clock: Clock, tenant_id: str, product_id: str, changes: Mapping[str, Any]
) -> Product:
    """Apply the given fields (absent fields stay; None clears an optional one)."""
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}", field=min(unknown))
    product = get_product(session, tenant_id, product_id)
    if "title" in changes and not (changes["title"] or "").strip():
        raise InvalidInput("title must not be empty", field="title")
    if "attributes" in changes and changes["attributes"] is None:
        changes = {**changes, "attributes": {}}  # null clears them
    if changes.get("category_id") is not None:
        _category_reference(session, tenant_id, changes["category_id"], field_name="category_id")
    changed = sorted(k for k, v in changes.items() if getattr(product, k) != v)
    for key in changed:
        value = changes[key]
        setattr(product, key, value.strip() if key == "title" else value)
    if changed:
        product.updated_at = clock.now()
        publish(session, clock, tenant_id, events.PRODUCT_UPDATED,
                events.product_payload(product.id, fields=changed))
    return product


def archive_product(session: Session, clock: Clock, tenant_id: str, product_id: str) -> Product:
    """Take a product off sale; it stays readable, and orders that name it keep working."""
    return _set_product_status(session, clock, tenant_id, product_id, "archived")


def restore_product(session: Session, clock: Clock, tenant_id: str, product_id: str) -> Product:
    return _set_product_status(session, clock, tenant_id, product_id, "active")


def _set_product_status(
    session: Session, clock: Clock, tenant_id: str, product_id: str, status: str
) -> Product:
    product = get_product(session, tenant_id, product_id)
    if product.status != status:
        product.status = status
        product.updated_at = clock.now()
        kind = events.PRODUCT_ARCHIVED if status == "archived" else events.PRODUCT_RESTORED
        publish(session, clock, tenant_id, kind, events.product_payload(product.id))
    return product


# --- variants and prices ----------------------------------------------------------------------


def add_variant(
    session: Session, clock: Clock, tenant_id: str, product_id: str, draft: VariantDraft
) -> Variant:
    product = get_product(session, tenant_id, product_id)
    checked = _checked_draft(draft, "variant")
    _check_unique_codes(session, tenant_id, [checked])
    position = max((v.position for v in product.variants), default=-1) + 1
    variant = _new_variant(tenant_id, product.id, checked, clock.now(), position)
    product.variants.append(variant)
    _flush_or_conflict(session, "the sku or gtin is taken")
    publish(session, clock, tenant_id, events.VARIANT_CREATED,
            events.variant_payload(variant.id, product.id))
    return variant


def get_variant(session: Session, tenant_id: str, variant_id: str) -> Variant:
    variant = session.get(Variant, variant_id)
    if variant is None or variant.tenant_id != tenant_id:
        raise NotFound(f"no variant {variant_id}")
    return variant


def list_variants(
    session: Session, tenant_id: str, *, product_id: str | None = None, sku: str | None = None,
    gtin: str | None = None, status: str | None = None, cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Variant], str | None]:
    stmt = select(Variant).where(Variant.tenant_id == tenant_id)
    if product_id is not None:
        stmt = stmt.where(Variant.product_id == product_id)
    if sku is not None:
        stmt = stmt.where(Variant.sku == sku)
    if gtin is not None:
        stmt = stmt.where(Variant.gtin == gtin)
    if status is not None:
        stmt = stmt.where(Variant.status == _checked_status(status))
    rows, next_cursor = paginate(session, stmt, Variant.id, cursor, limit)
    return list(rows), next_cursor


def update_variant(
    session: Session, clock: Clock, tenant_id: str, variant_id: str, changes: Mapping[str, Any]
) -> Variant:
    """Apply the given fields (None clears an optional one). A new package size without a new
    weight re-estimates the weight from the size; a variant left without a weight gets one."""
    unknown = set(changes) - VARIANT_FIELDS
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}", field=min(unknown))
    variant = get_variant(session, tenant_id, variant_id)
    if "sku" in changes and changes["sku"] is None:
        raise InvalidInput("sku must not be empty", field="sku")
    values = {k: getattr(variant, k) for k in VARIANT_FIELDS} | dict(changes)
    if "package_size" in changes and "unit_weight_g" not in changes:
        values["unit_weight_g"] = None
    checked = _checked_draft(VariantDraft(**values), "variant")
    _check_unique_codes(session, tenant_id, [VariantDraft(
        sku=checked.sku if checked.sku != variant.sku else "",
        gtin=checked.gtin if checked.gtin != variant.gtin else None,
    )])
    changed = sorted(k for k in VARIANT_FIELDS if getattr(variant, k) != getattr(checked, k))
    for key in changed:
        setattr(variant, key, getattr(checked, key))
    if changed:
        variant.updated_at = clock.now()
        _flush_or_conflict(session, "the sku or gtin is taken")
        publish(session, clock, tenant_id, events.VARIANT_UPDATED,
                events.variant_payload(variant.id, variant.product_id, fields=changed))
    return variant


def archive_variant(session: Session, clock: Clock, tenant_id: str, variant_id: str) -> Variant:
    return _set_variant_status(session, clock, tenant_id, variant_id, "archived")


def restore_variant(session: Session, clock: Clock, tenant_id: str, variant_id: str) -> Variant:
    return _set_variant_status(session, clock, tenant_id, variant_id, "active")


def _set_variant_status(
    session: Session, clock: Clock, tenant_id: str, variant_id: str, status: str
) -> Variant:
    variant = get_variant(session, tenant_id, variant_id)
    if variant.status != status:
        variant.status = status
        variant.updated_at = clock.now()
        kind = events.VARIANT_ARCHIVED if status == "archived" else events.VARIANT_RESTORED
        publish(session, clock, tenant_id, kind,
                events.variant_payload(variant.id, variant.product_id))
    return variant


def set_price(
    session: Session, clock: Clock, tenant_id: str, variant_id: str, currency: str, amount: int
) -> Price:
    """Set (create or replace) the variant's price in `currency`, in minor units."""
    _check_amount(currency, amount, "amount")
    variant = get_variant(session, tenant_id, variant_id)
    now = clock.now()
    price = next((p for p in variant.prices if p.currency == currency), None)
    if price is None:
        price = Price(id=new_id("prc"), tenant_id=tenant_id, variant_id=variant.id,
                      currency=currency, amount=amount, created_at=now, updated_at=now)
        variant.prices.append(price)
        _flush_or_conflict(session, f"the {currency} price was set concurrently; retry")
    elif price.amount != amount:
        price.amount = amount
        price.updated_at = now
    else:
        return price
    publish(session, clock, tenant_id, events.PRICE_SET, events.variant_payload(
        variant.id, variant.product_id, currency=currency, amount=amount))
    return price


@dataclass(frozen=True)
class PriceChange:
    variant_id: str
    currency: str
    amount: int


@dataclass(frozen=True)
class PriceBatchResult:
    created: int
    updated: int
    unchanged: int


MAX_PRICE_BATCH = 1_000


def set_prices(
    session: Session, clock: Clock, tenant_id: str, changes: Sequence[PriceChange]
) -> PriceBatchResult:
    """Set many prices at once, all or none: two reads however many prices, then one write per
    table. A variant that is not the tenant's makes the whole batch invalid."""
    if len(changes) > MAX_PRICE_BATCH:
        raise InvalidInput(f"at most {MAX_PRICE_BATCH} prices per batch", field="prices")
    seen: set[tuple[str, str]] = set()
    for i, change in enumerate(changes):
        _check_amount(change.currency, change.amount, f"prices.{i}.amount")
        key = (change.variant_id, change.currency)
        if key in seen:
            raise InvalidInput(f"{change.variant_id} has two {change.currency} prices in the "
                               "batch", field=f"prices.{i}")
        seen.add(key)
    variant_ids = sorted({c.variant_id for c in changes})
    owners = dict(session.execute(select(Variant.id, Variant.product_id).where(
        Variant.tenant_id == tenant_id, Variant.id.in_(variant_ids))).all())
    for i, change in enumerate(changes):
        if change.variant_id not in owners:
            raise InvalidInput(f"no variant {change.variant_id}", field=f"prices.{i}.variant_id")
    current = {(p.variant_id, p.currency): p for p in session.scalars(select(Price).where(
        Price.tenant_id == tenant_id, Price.variant_id.in_(variant_ids)))}
    now = clock.now()
    created = updated = 0
    for change in changes:
        price = current.get((change.variant_id, change.currency))
        if price is not None and price.amount == change.amount:
            continue
        if price is None:
            session.add(Price(id=new_id("prc"), tenant_id=tenant_id, variant_id=change.variant_id,
                              currency=change.currency, amount=change.amount, created_at=now,
                              updated_at=now))
            created += 1
        else:
            price.amount, price.updated_at = change.amount, now
            updated += 1
        publish(session, clock, tenant_id, events.PRICE_SET, events.variant_payload(
            change.variant_id, owners[change.variant_id], currency=change.currency,
            amount=change.amount))
    _flush_or_conflict(session, "a price was set concurrently; retry")
    return PriceBatchResult(created, updated, len(changes) - created - updated)


def remove_price(
    session: Session, clock: Clock, tenant_id: str, variant_id: str, currency: str
) -> Variant:
    variant = get_variant(session, tenant_id, variant_id)
    price = next((p for p in variant.prices if p.currency == currency), None)
    if price is None:
        raise NotFound(f"variant {variant_id} has no {currency} price")
    variant.prices.remove(price)
    session.delete(price)
    publish(session, clock, tenant_id, events.PRICE_REMOVED,
            events.variant_payload(variant.id, variant.product_id, currency=currency))
    return variant


# --- selling ----------------------------------------------------------------------------------


def variants_for_sale(
    session: Session, tenant_id: str, variant_ids: Sequence[str], currency: str
) -> dict[str, SaleableVariant]:
    """The saleable variants among `variant_ids`, priced in `currency`, by id.

    Missing, archived (or of an archived product), another tenant's, or unpriced in `currency`:
    absent from the result. One query per 5,000 distinct ids.
    """
    wanted = sorted(set(variant_ids))
    found: dict[str, SaleableVariant] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        rows = session.execute(
            _PRICED_VARIANTS, {"tenant": tenant_id, "currency": currency, "ids": chunk})
        for vid, sku, vtitle, ptitle, amount, weight in rows:
            found[vid] = SaleableVariant(
                variant_id=vid, sku=sku,
                title=f"{ptitle} - {vtitle}" if vtitle else ptitle,
                unit_price=Money(int(amount), currency), unit_weight_g=weight,
            )
    return found


def list_saleable_variant_ids(
    session: Session, tenant_id: str, currency: str, limit: int | None = None
) -> list[str]:
    """Ids of variants that can be sold in `currency` now, in id order."""
    stmt = _saleable().order_by(Variant.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt, {"tenant": tenant_id, "currency": currency}))


def known_variant_ids(session: Session, tenant_id: str, variant_ids: Sequence[str]) -> set[str]:
    """Which of `variant_ids` are the tenant's variants, in any state, priced or not (for stock
    that is received before it is priced). One query per 5,000 distinct ids."""
    wanted = sorted(set(variant_ids))
    known: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        known.update(session.scalars(select(Variant.id).where(
            Variant.tenant_id == tenant_id, Variant.id.in_(wanted[start:start + _IN_CHUNK]))))
    return known


def _saleable() -> Select[Any]:
    """Ids of the variants of tenant :tenant that can be sold in :currency."""
    tenant: BindParameter[str] = bindparam("tenant")
    return (
        select(Variant.id)
        .join(Product, and_(Product.id == Variant.product_id, Product.tenant_id == tenant))
        .join(Price, and_(Price.variant_id == Variant.id, Price.tenant_id == tenant,
                          Price.currency == bindparam("currency")))
        .where(Variant.tenant_id == tenant, Variant.status == "active",
               Product.status == "active")
    )


# Built once: every checkout prices its lines with it, and building the select() and its cache
# key again on each request costs more CPU than running it.
_PRICED_VARIANTS = _saleable().add_columns(
    Variant.sku, Variant.title, Product.title, Price.amount, Variant.unit_weight_g
).where(Variant.id.in_(bindparam("ids", expanding=True)))


# --- helpers ----------------------------------------------------------------------------------


def estimated_unit_weight_g(package_size: str) -> int | None:
    """Whole grams of one unit, estimated from its package size; None when it says no mass."""
    grams = unit_weight_grams(package_size)
    return round(grams) if grams is not None and grams >= 1 else None


def _checked_draft(draft: VariantDraft, where: str) -> VariantDraft:
    """The draft with its GTIN, weight and prices validated, and the weight derived from the
    package size when none is given."""
    sku = draft.sku.strip()
    if not sku:
        raise InvalidInput("sku must not be empty", field=f"{where}.sku")
    if draft.gtin is not None:
        try:
            check_gtin(draft.gtin)
        except ValueError as e:
            raise InvalidInput(str(e), field=f"{where}.gtin") from None
    weight = draft.unit_weight_g
    if weight is not None and weight <= 0:
        raise InvalidInput("unit_weight_g must be a positive number of grams",
                           field=f"{where}.unit_weight_g")
    if weight is None and draft.package_size:
        weight = estimated_unit_weight_g(draft.package_size)
    for currency, amount in draft.prices.items():
        _check_amount(currency, amount, f"{where}.prices.{currency}")
    return VariantDraft(sku=sku, title=draft.title, gtin=draft.gtin, unit_weight_g=weight,
                        package_size=draft.package_size, prices=dict(draft.prices))


def _check_amount(currency: str, amount: int, field_name: str) -> None:
    try:
        check_currency(currency)
    except ValueError as e:
        raise InvalidInput(str(e), field=field_name) from None
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput("a price is a non-negative integer in minor units",
                           field=field_name)


def _check_unique_codes(session: Session, tenant_id: str, drafts: Sequence[VariantDraft]) -> None:
    """SKUs and GTINs are unique per tenant: a clash within the request is invalid input, a
    clash with an existing variant a conflict. One query for all drafts."""
    skus = [d.sku for d in drafts if d.sku]
    gtins = [d.gtin for d in drafts if d.gtin]
    for name, values in (("sku", skus), ("gtin", gtins)):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise InvalidInput(f"{name} {dupes[0]!r} appears twice in the request", field=name)
    if not skus and not gtins:
        return
    clash = session.execute(
        select(Variant.sku, Variant.gtin, Variant.id).where(
            Variant.tenant_id == tenant_id,
            or_(Variant.sku.in_(skus), Variant.gtin.in_(gtins)),
        ).limit(1)
    ).first()
    if clash is not None:
        sku, gtin, vid = clash
        if sku in skus:
            raise Conflict(f"a variant with sku {sku!r} exists", field="sku", existing=vid)
        raise Conflict(f"a variant with gtin {gtin!r} exists", field="gtin", existing=vid)


def _new_variant(
    tenant_id: str, product_id: str, draft: VariantDraft, now: datetime, position: int
) -> Variant:
    variant_id = new_id("sku")
    return Variant(
        id=variant_id, tenant_id=tenant_id, product_id=product_id, sku=draft.sku,
        title=draft.title, gtin=draft.gtin, unit_weight_g=draft.unit_weight_g,
        package_size=draft.package_size, status="active", position=position,
        created_at=now, updated_at=now, prices=[
            Price(id=new_id("prc"), tenant_id=tenant_id, variant_id=variant_id,
                  currency=currency, amount=amount, created_at=now, updated_at=now)
            for currency, amount in sorted(draft.prices.items())
        ],
    )


def _checked_status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    return status


def _contains(
    column: InstrumentedAttribute[Any], pattern: str, sqlite: bool
) -> ColumnElement[bool]:
    """`column` matches the LIKE `pattern`, ignoring case. SQLite's LIKE already ignores ASCII
    case (as its lower() does), and ILIKE there wraps each row in lower(): twice as slow."""
    if sqlite:
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _flush_or_conflict(session: Session, detail: str) -> None:
    """Flush, turning a unique-constraint race (a concurrent writer won) into a 409."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(detail) from None
