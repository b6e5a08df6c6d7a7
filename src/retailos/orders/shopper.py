"""A shopper simulator: places orders continuously through the HTTP API, from Complete Journey
baskets, with some cancellations, returns and declined cards, at a steady rate, until stopped.

A Complete Journey product is found in the store's catalogue by its SKU code, `str(product_id)`
(what the catalogue import writes), through `GET /v1/catalog/variants?sku=`; lookups are cached
and products the store does not sell are left out of the basket. After 20 baskets in a row with
nothing the store sells (a partial catalogue), the catalogue is read once and baskets are matched
locally; after 1,000 more, the shopper makes baskets of the catalogue's own SKUs. Every POST
carries an Idempotency-Key and is retried with the same key on a 5xx or a dropped connection, so
a retry never orders twice.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from retailos.catalog.completejourney import SHELF_QUANTITY

log = logging.getLogger("retailos.orders.shopper")

APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
RETRIES = 3

Basket = list[tuple[str, int]]  # (CJ product id as SKU code, quantity)


class _NoMoreBaskets(Exception):
    pass


@dataclass
class ShopperStats:
    placed: int = 0
    declined: int = 0
    out_of_stock: int = 0
    cancelled: int = 0
    returned: int = 0
    skipped_baskets: int = 0  # nothing in them the store sells
    errors: int = 0
    revenue: int = 0  # minor units of the placed groups' totals

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ShopperConfig:
    rate: float = 1.0  # checkouts per second
    currency: str = "USD"
    max_lines: int = 20
    cancel_rate: float = 0.05
    return_rate: float = 0.05
    decline_rate: float = 0.03
    seed: int = 7
    limit: int | None = None  # stop after this many checkouts (tried, whatever the answer)
    email_domain: str = "shoppers.example"
    extra: dict[str, Any] = field(default_factory=dict)


def complete_journey_baskets(seed: int = 7, sample: int = 20_000) -> Iterator[Basket]:
    """Baskets of the Complete Journey transactions, `sample` of them in a seeded random order,
    repeated for ever."""
    import numpy as np

    from retailos.catalog.completejourney import shelf_transactions

    tx = shelf_transactions(["basket_id", "product_id", "quantity"])
    tx = tx.sort_values("basket_id", kind="stable")
    basket_ids = tx["basket_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, basket_ids[1:] != basket_ids[:-1]])
    ends = np.r_[starts[1:], len(basket_ids)]
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(len(starts))[:sample]
    products = tx["product_id"].to_numpy()
    quantities = tx["quantity"].to_numpy()
    baskets = [
        [(str(int(p)), int(q)) for p, q in zip(products[s:e], quantities[s:e], strict=True)]
        for s, e in zip(starts[chosen], ends[chosen], strict=True)
    ]
    while True:
        yield from baskets


class Shopper:
    """Places orders against one store's API key. Use `run(stop)` in a thread, or `step()`."""

    def __init__(
        self, client: httpx.Client, api_key: str, baskets: Iterable[Basket],
        config: ShopperConfig | None = None,
    ) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.baskets = iter(baskets)
        self.config = config or ShopperConfig()
        self.rng = random.Random(self.config.seed)
        self.stats = ShopperStats()
        self._variants: dict[str, str | None] = {}
        self._catalogue: dict[str, str] | None = None  # sku -> variant id, once loaded
        self._misses = 0  # baskets in a row with nothing the store sells
        self._to_return: list[dict[str, Any]] = []

    # -- HTTP --------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {**self.headers, "Idempotency-Key": f"shopper-{uuid.uuid4()}"}
        response: httpx.Response | None = None
        for attempt in range(RETRIES):
            try:
                response = self.client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                time.sleep(0.2 * (attempt + 1))
                continue
            if response.status_code < 500:
                return response
            time.sleep(0.2 * (attempt + 1))
        if response is None:
            raise httpx.TransportError(f"POST {path}: no answer after {RETRIES} attempts")
        return response

    def variant_for(self, sku: str) -> str | None:
        """The store's variant id for a SKU code, or None if it does not sell it (cached)."""
        if self._catalogue is not None:
            return self._catalogue.get(sku)
        if sku not in self._variants:
            r = self.client.get("/v1/catalog/variants", params={"sku": sku, "limit": 1,
                                                                 "status": "active"},
                                headers=self.headers)
            data = r.json().get("data", []) if r.status_code == 200 else []
            self._variants[sku] = data[0]["id"] if data else None
        return self._variants[sku]

    def _load_catalogue(self, max_pages: int = 100) -> None:
        """Read the store's saleable variants page by page (a small catalogue, or the first
        20,000 of a large one): baskets are then matched locally, without a request per SKU."""
        catalogue: dict[str, str] = {}
        cursor: str | None = None
        for _ in range(max_pages):
            params: dict[str, Any] = {"limit": 200, "status": "active"}
            if cursor:
                params["cursor"] = cursor
            r = self.client.get("/v1/catalog/variants", params=params, headers=self.headers)
            if r.status_code != 200:
                break
            page = r.json()
            catalogue.update({v["sku"]: v["id"] for v in page["data"]})
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self._catalogue = catalogue

    def _synthetic_basket(self) -> Basket:
        """When no Complete Journey basket matches the store's catalogue: a few of its SKUs."""
        assert self._catalogue
        skus = self.rng.sample(sorted(self._catalogue), min(len(self._catalogue),
                                                            self.rng.randint(1, 6)))
        return [(sku, self.rng.randint(1, 2)) for sku in skus]

    # -- one shopper's visit -----------------------------------------------------------------

    def _lines(self, basket: Basket) -> list[dict[str, Any]]:
        quantities: dict[str, int] = {}
        for sku, qty in basket:
            variant = self.variant_for(sku)
            if variant is not None:
                quantities[variant] = min(quantities.get(variant, 0) + qty, SHELF_QUANTITY)
            if len(quantities) >= self.config.max_lines:
                break
        return [{"sku_id": v, "quantity": q} for v, q in quantities.items()]

    def step(self) -> bool:
        """One shopper: check out a basket, then maybe cancel or (later) return the order.
        False when the basket held nothing the store sells (no checkout was tried)."""
        if self._catalogue and self._misses >= 1_000:
            basket = self._synthetic_basket()
        else:
            found = next(self.baskets, None)
            if found is None:
                raise _NoMoreBaskets
            basket = found
        lines = self._lines(basket)
        if not lines:
            self.stats.skipped_baskets += 1
            self._misses += 1
            if self._misses == 20 and self._catalogue is None:
                self._load_catalogue()
            return False
        if self._misses < 1_000:  # once making baskets of its own, the shopper stays at it
            self._misses = 0
        declined = self.rng.random() < self.config.decline_rate
        body = {
            "currency": self.config.currency, "lines": lines,
            "payment": {"card_number": DECLINED_CARD if declined else APPROVED_CARD},
            "customer": {"email": f"shopper{self.rng.randrange(10_000)}@"
                                  f"{self.config.email_domain}"},
        }
        r = self._post("/v1/checkouts", body)
        if r.status_code == 402:
            self.stats.declined += 1
            return True
        if r.status_code == 409 and "out-of-stock" in r.text:
            self.stats.out_of_stock += 1
            return True
        if r.status_code not in (200, 201):
            self.stats.errors += 1
            log.warning("checkout failed", extra={"status": r.status_code, "body": r.text[:300]})
            return True
        group = r.json()
        self.stats.placed += 1
        self.stats.revenue += int(group["total"])
        for order in group["orders"]:
            roll = self.rng.random()
            if roll < self.config.cancel_rate:
                if self._post(f"/v1/orders/{order['id']}/cancel",
                              {"reason": "shopper changed their mind"}).status_code == 200:
                    self.stats.cancelled += 1
            elif roll < self.config.cancel_rate + self.config.return_rate:
                self._to_return.append(order)
        if len(self._to_return) >= 3 or (self._to_return and self.rng.random() < 0.2):
            self._return(self._to_return.pop(0))
        return True

    def _return(self, order: dict[str, Any]) -> None:
        """Send the order out and take part of it (or all of a one-unit order) back."""
        for action in ("fulfil", "ship", "deliver"):
            if self._post(f"/v1/orders/{order['id']}/{action}").status_code != 200:
                return
        line = order["lines"][0]
        quantity = max(1, line["quantity"] // 2)
        r = self._post(f"/v1/orders/{order['id']}/returns", {
            "lines": [{"sku_id": line["sku_id"], "quantity": quantity}],
            "reason": "did not like it"})
        if r.status_code == 201:
            self.stats.returned += 1

    def run(self, stop: threading.Event) -> ShopperStats:
        """Checkout after checkout at `config.rate` per second until `stop` is set, the limit is
        reached or the baskets run out."""
        interval = 1.0 / self.config.rate if self.config.rate > 0 else 0.0
        next_at = time.monotonic()
        attempts = 0
        while not stop.is_set():
            if self.config.limit is not None and attempts >= self.config.limit:
                break
            try:
                checked_out = self.step()
            except _NoMoreBaskets:
                break
            except (httpx.HTTPError, KeyError, ValueError) as e:
                self.stats.errors += 1
                log.warning("shopper visit failed", extra={"error": str(e)})
                checked_out = True
            if checked_out:  # a basket of nothing the store sells costs no time
                attempts += 1
                next_at += interval
                stop.wait(max(0.0, next_at - time.monotonic()))
            else:
                next_at = max(next_at, time.monotonic())
        return self.stats


def run_shoppers(
    url: str, api_key: str, rate: float = 1.0, stop: threading.Event | None = None,
    config: ShopperConfig | None = None, baskets: Iterable[Basket] | None = None,
) -> ShopperStats:
    """Place orders on the API at `url` until `stop` is set; returns what happened."""
    config = config or ShopperConfig(rate=rate)
    config.rate = rate
    with httpx.Client(base_url=url, timeout=30.0) as client:
        shopper = Shopper(client, api_key, baskets or complete_journey_baskets(config.seed),
                          config)
        stats = shopper.run(stop or threading.Event())
    log.info("shoppers stopped", extra=stats.as_dict())
    return stats
