"""The catalogue over HTTP: categories, products, variants and their prices."""

from __future__ import annotations

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from retailos.api.deps import clock, scoped, session
from retailos.api.routing import make_router
from retailos.catalog import service
from retailos.catalog.schemas import (
    CategoryIn,
    CategoryOut,
    PriceAmountIn,
    PriceBatchIn,
    PriceBatchOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    Status,
    VariantIn,
    VariantOut,
    VariantPatch,
)
from retailos.catalog.service import PriceChange, VariantDraft
from retailos.core.clock import Clock
from retailos.core.pagination import Page
from retailos.tenants.service import Principal

router = make_router("/v1/catalog", "catalog")

READ = scoped("catalog:read")
WRITE = scoped("catalog:write")
CURSOR = Query(default=None, description="next_cursor of the previous page")
LIMIT = Query(default=50, description="Page size, 1 to 200")
CURRENCY = Path(pattern=r"^[A-Z]{3}$", examples=["USD"])


def _draft(body: VariantIn) -> VariantDraft:
    return VariantDraft(
        sku=body.sku, title=body.title, gtin=body.gtin, unit_weight_g=body.unit_weight_g,
        package_size=body.package_size, prices={p.currency: p.amount for p in body.prices},
    )


# --- categories -------------------------------------------------------------------------------


@router.post("/categories", status_code=201, response_model=CategoryOut,
             summary="Create a category, optionally under a parent")
def create_category(
    body: CategoryIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> CategoryOut:
    category = service.create_category(db, now, who.tenant_id, body.code, body.name,
                                       body.parent_id)
    return CategoryOut.model_validate(category)


@router.get("/categories", response_model=Page[CategoryOut],
            summary="Categories in id order; filter by parent or code")
def list_categories(
    parent_id: str | None = None, code: str | None = None, cursor: str | None = CURSOR,
    limit: int = LIMIT, who: Principal = Depends(READ), db: Session = Depends(session),
) -> Page[CategoryOut]:
    rows, next_cursor = service.list_categories(
        db, who.tenant_id, parent_id=parent_id, code=code, cursor=cursor, limit=limit)
    return Page(data=[CategoryOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/categories/{category_id}", response_model=CategoryOut)
def get_category(
    category_id: str, who: Principal = Depends(READ), db: Session = Depends(session)
) -> CategoryOut:
    return CategoryOut.model_validate(service.get_category(db, who.tenant_id, category_id))


# --- products ---------------------------------------------------------------------------------


@router.post("/products", status_code=201, response_model=ProductOut,
             summary="Create a product with its variants and their prices in one call")
def create_product(
    body: ProductIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> ProductOut:
    product = service.create_product(
        db, now, who.tenant_id, title=body.title, brand=body.brand, description=body.description,
        category_id=body.category_id, attributes=body.attributes, external_ref=body.external_ref,
        variants=[_draft(v) for v in body.variants],
    )
    return ProductOut.model_validate(product)


@router.get("/products", response_model=Page[ProductOut],
            summary="Products in id order, with filters and a search over title, brand and SKU")
def list_products(
    category_id: str | None = Query(default=None, description="Includes its subcategories"),
    status: Status | None = None,
    brand: str | None = None,
    q: str | None = Query(default=None, max_length=200,
                          description="Words that must each appear in title, brand or a SKU"),
    external_ref: str | None = Query(default=None, description="Your own id for the product"),
    cursor: str | None = CURSOR, limit: int = LIMIT,
    who: Principal = Depends(READ), db: Session = Depends(session),
) -> Page[ProductOut]:
    rows, next_cursor = service.list_products(
        db, who.tenant_id, category_id=category_id, status=status, brand=brand, q=q,
        external_ref=external_ref, cursor=cursor, limit=limit,
    )
    return Page(data=[ProductOut.model_validate(p) for p in rows], next_cursor=next_cursor)


@router.get("/products/{product_id}", response_model=ProductOut)
def get_product(
    product_id: str, who: Principal = Depends(READ), db: Session = Depends(session)
) -> ProductOut:
    return ProductOut.model_validate(service.get_product(db, who.tenant_id, product_id))


@router.patch("/products/{product_id}", response_model=ProductOut,
              summary="Change a product's fields; null clears an optional one")
def update_product(
    product_id: str, body: ProductPatch, who: Principal = Depends(WRITE),
    db: Session = Depends(session), now: Clock = Depends(clock),
) -> ProductOut:
    changes = body.model_dump(exclude_unset=True)
    product = service.update_product(db, now, who.tenant_id, product_id, changes)
    return ProductOut.model_validate(product)


@router.post("/products/{product_id}/archive", response_model=ProductOut,
             summary="Take a product off sale; it stays readable")
def archive_product(
    product_id: str, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> ProductOut:
    return ProductOut.model_validate(service.archive_product(db, now, who.tenant_id, product_id))


@router.post("/products/{product_id}/restore", response_model=ProductOut,
             summary="Put an archived product back on sale")
def restore_product(
    product_id: str, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> ProductOut:
    return ProductOut.model_validate(service.restore_product(db, now, who.tenant_id, product_id))


@router.post("/products/{product_id}/variants", status_code=201, response_model=VariantOut,
             summary="Add a variant to a product")
def add_variant(
    product_id: str, body: VariantIn, who: Principal = Depends(WRITE),
    db: Session = Depends(session), now: Clock = Depends(clock),
) -> VariantOut:
    variant = service.add_variant(db, now, who.tenant_id, product_id, _draft(body))
    return VariantOut.model_validate(variant)


# --- variants ---------------------------------------------------------------------------------


@router.get("/variants", response_model=Page[VariantOut],
            summary="Variants in id order; filter by product, SKU, GTIN or status")
def list_variants(
    product_id: str | None = None, sku: str | None = None, gtin: str | None = None,
    status: Status | None = None, cursor: str | None = CURSOR, limit: int = LIMIT,
    who: Principal = Depends(READ), db: Session = Depends(session),
) -> Page[VariantOut]:
    rows, next_cursor = service.list_variants(
        db, who.tenant_id, product_id=product_id, sku=sku, gtin=gtin, status=status,
        cursor=cursor, limit=limit,
    )
    return Page(data=[VariantOut.model_validate(v) for v in rows], next_cursor=next_cursor)


@router.get("/variants/{variant_id}", response_model=VariantOut)
def get_variant(
    variant_id: str, who: Principal = Depends(READ), db: Session = Depends(session)
) -> VariantOut:
    return VariantOut.model_validate(service.get_variant(db, who.tenant_id, variant_id))


@router.patch("/variants/{variant_id}", response_model=VariantOut,
              summary="Change a variant; a new package_size without a weight re-estimates it")
def update_variant(
    variant_id: str, body: VariantPatch, who: Principal = Depends(WRITE),
    db: Session = Depends(session), now: Clock = Depends(clock),
) -> VariantOut:
    changes = body.model_dump(exclude_unset=True)
    variant = service.update_variant(db, now, who.tenant_id, variant_id, changes)
    return VariantOut.model_validate(variant)


@router.post("/variants/{variant_id}/archive", response_model=VariantOut)
def archive_variant(
    variant_id: str, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> VariantOut:
    return VariantOut.model_validate(service.archive_variant(db, now, who.tenant_id, variant_id))


@router.post("/variants/{variant_id}/restore", response_model=VariantOut)
def restore_variant(
    variant_id: str, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> VariantOut:
    return VariantOut.model_validate(service.restore_variant(db, now, who.tenant_id, variant_id))


@router.put("/variants/{variant_id}/prices/{currency}", response_model=VariantOut,
            summary="Set the variant's price in one currency (minor units)")
def set_price(
    variant_id: str, body: PriceAmountIn, currency: str = CURRENCY,
    who: Principal = Depends(WRITE), db: Session = Depends(session), now: Clock = Depends(clock),
) -> VariantOut:
    service.set_price(db, now, who.tenant_id, variant_id, currency, body.amount)
    return VariantOut.model_validate(service.get_variant(db, who.tenant_id, variant_id))


@router.delete("/variants/{variant_id}/prices/{currency}", response_model=VariantOut,
               summary="Remove the variant's price in one currency; it stops selling in it")
def remove_price(
    variant_id: str, currency: str = CURRENCY, who: Principal = Depends(WRITE),
    db: Session = Depends(session), now: Clock = Depends(clock),
) -> VariantOut:
    variant = service.remove_price(db, now, who.tenant_id, variant_id, currency)
    return VariantOut.model_validate(variant)


@router.post("/prices", response_model=PriceBatchOut,
             summary="Set up to 1,000 prices at once, all or none")
def set_prices(
    body: PriceBatchIn, who: Principal = Depends(WRITE), db: Session = Depends(session),
    now: Clock = Depends(clock),
) -> PriceBatchOut:
    changes = [PriceChange(p.variant_id, p.currency, p.amount) for p in body.prices]
    result = service.set_prices(db, now, who.tenant_id, changes)
    return PriceBatchOut(created=result.created, updated=result.updated,
                         unchanged=result.unchanged)
