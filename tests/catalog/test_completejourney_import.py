"""The Complete Journey import on a small subset: categories, titles, weights, prices, and a
second run that creates and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from retailos.catalog import completejourney, service
from retailos.catalog.models import Category, Product, Variant
from retailos.catalog.package_size import unit_weight_grams
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.errors import Conflict, NotFound
from retailos.tenants import service as tenants

ICE, MISC, APPLE_SAUCE = 25671, 26081, 26190  # "22 LB" ice, no size at all, "50 OZ" sauce
PICK = [ICE, MISC, APPLE_SAUCE, 26093, 26355, 26426, 26540, 26601, 26636, 26691]


@pytest.fixture
def tenant_id(db: Database, clock: ManualClock) -> str:
    with db.transaction() as s:
        return tenants.create_tenant(s, clock, "retailer", "Complete Journey Grocer").id


def run(db: Database, clock: ManualClock, tenant_id: str, **kw: object
        ) -> completejourney.ImportResult:
    with db.transaction() as s:
        return completejourney.import_catalogue(s, clock, tenant_id, **kw)  # type: ignore[arg-type]


def test_second_import_creates_and_changes_nothing(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    seen: list[tuple[int, int]] = []
    imported_at = clock.now()
    first = run(db, clock, tenant_id, product_ids=PICK,
                progress=lambda done, total: seen.append((done, total)))
    assert (first.created, first.updated, first.unchanged) == (len(PICK), 0, 0)
    assert seen[-1] == (len(PICK), len(PICK))
    clock.advance(days=1)
    second = run(db, clock, tenant_id, product_ids=PICK)
    assert (second.created, second.updated, second.unchanged) == (0, 0, len(PICK))
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == len(PICK)
        assert s.scalar(select(func.count()).select_from(Variant)) == len(PICK)
        newest = s.scalar(select(func.max(Product.updated_at)))
    assert newest == imported_at  # the second run touched no row


def test_imported_products_have_titles_categories_weights_and_prices(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    run(db, clock, tenant_id, product_ids=PICK)
    with db.sessions() as s:
        ice = s.scalars(select(Product).where(
            Product.external_ref == f"completejourney:{ICE}")).one()
        misc = s.scalars(select(Product).where(
            Product.external_ref == f"completejourney:{MISC}")).one()
        path = []
        category = s.get(Category, ice.category_id)
        while category is not None:
            path.append((category.code, category.name))
            category = s.get(Category, category.parent_id) if category.parent_id else None
        [ice_variant], [misc_variant] = ice.variants, misc.variants
    assert ice.title == "National brand Ice - Crushed/Cubed, 22 LB"
    assert ice.brand == "National"
    assert ice.attributes["department"] == "GROCERY"
    assert path == [
        ("grocery/frzn-ice/ice-crushed-cubed", "ICE - CRUSHED/CUBED"),
        ("grocery/frzn-ice", "FRZN ICE"),
        ("grocery", "GROCERY"),
    ]
    assert ice_variant.sku == str(ICE)
    assert ice_variant.package_size == "22 LB"
    assert ice_variant.unit_weight_g == round(unit_weight_grams("22 LB") or 0)
    assert [(p.currency, p.amount > 0) for p in ice_variant.prices] == [("USD", True)]
    assert misc_variant.unit_weight_g is None
    assert misc_variant.prices[0].amount > 0  # never sold: its group's median, or the default


def test_import_brings_changed_products_back_to_the_source(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    run(db, clock, tenant_id, product_ids=PICK)
    with db.transaction() as s:
        sauce = s.scalars(select(Variant).where(Variant.sku == str(APPLE_SAUCE))).one()
        source_amount = sauce.prices[0].amount
        service.set_price(s, clock, tenant_id, sauce.id, "USD", source_amount + 100)
        service.update_variant(s, clock, tenant_id, sauce.id, {"unit_weight_g": 1})
    again = run(db, clock, tenant_id, product_ids=PICK)
    assert (again.created, again.updated, again.unchanged) == (0, 1, len(PICK) - 1)
    with db.sessions() as s:
        sale = service.variants_for_sale(s, tenant_id, [sauce.id], "USD")[sauce.id]
    assert sale.unit_price.amount == source_amount
    assert sale.unit_weight_g == round(unit_weight_grams("50 OZ") or 0)


def test_limit_takes_the_first_products_and_more_can_follow(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    assert run(db, clock, tenant_id, limit=5).created == 5
    more = run(db, clock, tenant_id, limit=12)
    assert (more.created, more.unchanged) == (7, 5)


def test_tenants_import_separately(db: Database, clock: ManualClock, tenant_id: str) -> None:
    with db.transaction() as s:
        other = tenants.create_tenant(s, clock, "retailer", "Other").id
    run(db, clock, tenant_id, product_ids=PICK[:3])
    assert run(db, clock, other, product_ids=PICK[:3]).created == 3
    with db.sessions() as s:
        assert len(service.list_saleable_variant_ids(s, other, "USD")) == 3


def test_unknown_tenant_is_not_found(db: Database, clock: ManualClock) -> None:
    with pytest.raises(NotFound):
        run(db, clock, "ten_nobody", product_ids=PICK)


def test_a_sku_taken_by_the_tenants_own_product_is_a_conflict(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    with db.transaction() as s:
        service.create_product(s, clock, tenant_id, title="Mine",
                               variants=[service.VariantDraft(sku=str(ICE))])
    with pytest.raises(Conflict):
        run(db, clock, tenant_id, product_ids=PICK)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 1


def test_given_a_database_the_import_commits_on_its_own(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    result = completejourney.import_catalogue(db, clock, tenant_id, product_ids=PICK[:2])
    assert result.created == 2
    with db.sessions() as s:
        assert len(service.list_saleable_variant_ids(s, tenant_id, "USD")) == 2
    again = completejourney.import_catalogue(db.sessions, clock, tenant_id, product_ids=PICK[:2])
    assert again.unchanged == 2


def test_two_imports_at_once_never_duplicate_a_product(
    db: Database, clock: ManualClock, tenant_id: str
) -> None:
    import threading

    outcomes: list[str] = []

    def one_import() -> None:
        try:
            result = completejourney.import_catalogue(db, clock, tenant_id, limit=300)
            outcomes.append(f"created {result.created}, unchanged {result.unchanged}")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=one_import) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes)[-1] == "created 300, unchanged 0"  # one of them did all the work
    assert sorted(outcomes)[0] in ("conflict", "created 0, unchanged 300")
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 300
        assert s.scalar(select(func.count()).select_from(Variant)) == 300
