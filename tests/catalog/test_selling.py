"""What other packages call to price carts: `variants_for_sale` and the saleable ids."""

from __future__ import annotations

from retailos.catalog import service
from retailos.catalog.service import SaleableVariant, VariantDraft
from retailos.core.clock import ManualClock
from retailos.core.db import Database
from retailos.core.money import Money
from tests.catalog.helpers import stock_shelf, tenant
from tests.conftest import recorded_statements


def test_one_query_prices_any_number_of_variants(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        tid = tenant(s, clock, "A")
        ids = stock_shelf(s, clock, tid, 30)
    with db.sessions() as s, recorded_statements(db, begin=False) as statements:
        found = service.variants_for_sale(s, tid, ids, "USD")
    assert len(statements) == 1
    assert len(found) == 30
    assert found[ids[4]] == SaleableVariant(
        variant_id=ids[4], sku="S5", title="Item 5", unit_price=Money(500, "USD"),
        unit_weight_g=found[ids[4]].unit_weight_g,
    )
    assert found[ids[4]].unit_weight_g is not None and found[ids[4]].unit_weight_g > 453


def test_unsaleable_variants_are_simply_absent(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        tid = tenant(s, clock, "A")
        other = tenant(s, clock, "B")
        ok, archived, of_archived_product, unpriced_in_eur = stock_shelf(s, clock, tid, 4)
        theirs = stock_shelf(s, clock, other, 1)[0]
        service.archive_variant(s, clock, tid, archived)
        product_id = service.get_variant(s, tid, of_archived_product).product_id
        service.archive_product(s, clock, tid, product_id)
        service.set_price(s, clock, tid, ok, "EUR", 90)
    asked = [ok, archived, of_archived_product, unpriced_in_eur, theirs, "sku_missing", ok]
    with db.sessions() as s:
        in_usd = service.variants_for_sale(s, tid, asked, "USD")
        in_eur = service.variants_for_sale(s, tid, asked, "EUR")
    assert sorted(in_usd) == sorted([ok, unpriced_in_eur])
    assert list(in_eur) == [ok]
    assert in_eur[ok].unit_price == Money(90, "EUR")


def test_variant_title_adds_to_the_product_title(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        tid = tenant(s, clock, "A")
        product = service.create_product(s, clock, tid, title="Cola", variants=[
            VariantDraft(sku="C6", title="6 pack", prices={"USD": 499})])
        vid = product.variants[0].id
    with db.sessions() as s:
        assert service.variants_for_sale(s, tid, [vid], "USD")[vid].title == "Cola - 6 pack"
        assert service.variants_for_sale(s, tid, [], "USD") == {}


def test_saleable_ids_are_priced_active_and_limited(db: Database, clock: ManualClock) -> None:
    with db.transaction() as s:
        tid = tenant(s, clock, "A")
        ids = sorted(stock_shelf(s, clock, tid, 5))  # ids sort by time, ties at random
        service.archive_variant(s, clock, tid, ids[0])
    with db.sessions() as s:
        assert service.list_saleable_variant_ids(s, tid, "USD") == ids[1:]
        assert service.list_saleable_variant_ids(s, tid, "USD", limit=2) == ids[1:3]
        assert service.list_saleable_variant_ids(s, tid, "EUR") == []


def test_known_variant_ids_include_unpriced_and_archived_but_not_others(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as s:
        tid = tenant(s, clock, "A")
        other = tenant(s, clock, "B")
        product = service.create_product(s, clock, tid, title="Flour", variants=[
            VariantDraft(sku="F1"), VariantDraft(sku="F2", prices={"USD": 199})])
        unpriced, priced = (v.id for v in product.variants)
        service.archive_variant(s, clock, tid, priced)
        theirs = stock_shelf(s, clock, other, 1)[0]
    with db.sessions() as s, recorded_statements(db, begin=False) as statements:
        known = service.known_variant_ids(s, tid, [unpriced, priced, theirs, "sku_missing"])
    assert known == {unpriced, priced}
    assert len(statements) == 1
