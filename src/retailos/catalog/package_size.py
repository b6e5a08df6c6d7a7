"""Estimate a unit's gross weight from a free-text package size ("16 OZ", "6/12 OZ", "2 L").

Walk-out shelves identify products by weight, and the Complete Journey catalogue gives only a
package size, so this is where a catalogue unit weight comes from.
"""

from __future__ import annotations

import re

GRAMS_PER_MASS_UNIT = {
    "OZ": 28.349523125,
    "LB": 453.59237,
    "G": 1.0,
    "KG": 1000.0,
}
# Liquids are taken at 1 g/ml: most grocery liquids are within a few percent of water.
GRAMS_PER_VOLUME_UNIT = {
    "FLOZ": 29.5735,
    "ML": 1.0,
    "CL": 10.0,
    "L": 1000.0,
    "PT": 473.176,
    "QT": 946.353,
    "GAL": 3785.41,
}
_UNIT_ALIASES = {
    "OZS": "OZ", "Z": "OZ", "REC OZ": "OZ",
    "LBS": "LB",
    "GM": "G", "GMS": "G", "GR": "G", "GRAM": "G", "GRAMS": "G",
    "FL OZ": "FLOZ", "FLOZ": "FLOZ",
    "LTR": "L", "LRT": "L", "LT": "L",
    "GA": "GAL",
}  # fmt: skip
_UNIT = (
    r"FL\s*OZ|REC\s+OZ|OZS|OZ|Z|LBS|LB|KG|GRAMS|GRAM|GMS|GM|GR|G|ML|CL|LTR|LRT|LT|L|PT|QT|GAL|GA"
)
_NUMBER = r"\d+\.\d+|\.\d+|\d+"
# An optional "a/" before the amount is either a fraction (1/2 GAL) or a pack count (6/12 OZ).
_QUANTITY = re.compile(
    rf"(?<![A-Z0-9.])(?:(?P<a>{_NUMBER})\s*/\s*)?(?P<b>{_NUMBER})\s*(?P<unit>{_UNIT})(?![A-Z])"
)
_PACK = re.compile(r"(?<![A-Z0-9.])(\d+)\s*(?:PK|PACK|PCK)(?![A-Z])")
_BARE_UNIT = re.compile(rf"^(?P<unit>{_UNIT})$")
_DOZEN = re.compile(r"^(?:(\d+)\s*)?(?:DZ|DOZ|DOZEN)$")
_FRACTION_DENOMINATORS = {2, 3, 4, 8, 16}

# Packaging on top of the net contents: a fixed part (lid, label, wrapper) plus a share of the
# contents (bigger packs need sturdier containers). Liquids need a bottle or carton, so more.
_SOLID_PACKAGING = (3.0, 0.06)
_LIQUID_PACKAGING = (12.0, 0.06)
_OUTER_WRAP_G = 10.0  # shrink wrap or carton around a multipack
_EGG_G, _EGG_CARTON_G = 57.0, 60.0
# No shelf product is heavier than this; a bigger result means the size was misread.
MAX_UNIT_G = 25_000.0


def unit_weight_grams(package_size: str | None) -> float | None:
    """Estimated gross weight in grams of one sellable unit described by `package_size`.

    - Mass sizes (OZ, LB, G, KG; "2 LB 3 OZ" adds up) give the net weight; "OZ" is read as a
      weight ounce, also for drinks, where it differs from a fluid ounce by 4%.
    - Volume sizes (ML, L, FL OZ, PT, QT, GAL, "1/2 GAL", "HALF GAL") count 1 g per ml.
    - When a size names both a mass and a volume ("2 QT/.25 OZ" drink mix), the mass wins.
    - Multipacks multiply: "6/12 OZ", "6 PK/5 OZ", "12 OZ/8 PK" are six or eight containers.
      A count in CT ("12 CT/11 OZ") names pieces inside one package, so the size is the total.
      If multiplying would pass MAX_UNIT_G, the size was already the total ("144 OZ/12 PK").
    - Gross = net + packaging: 3 g + 6% for solids, 12 g + 6% for liquids, per container,
      plus 10 g of outer wrap for a multipack.
    - Eggs by the dozen ("1 DZ") are 57 g an egg plus a 60 g carton.
    - Counts without a size ("20 CT", "6 PK"), lengths, areas, loads and anything unparsable
      return None: a count says nothing about mass (20 napkins versus 20 batteries).
    """
    if not isinstance(package_size, str):  # None, or NaN from a pandas column
        return None
    text = _normalise(package_size)
    if not text:
        return None

    dozen = _DOZEN.match(text)
    if dozen:
        dozens = int(dozen.group(1) or 1)
        return dozens * (12 * _EGG_G + _EGG_CARTON_G) if 0 < dozens <= 5 else None

    net, liquid, count = _net_per_container(text)
    if net is None or net <= 0:
        return None
    if count > 1 and count * net > MAX_UNIT_G:
        count = 1  # the size was the pack's total, not each container's
    fixed, share = _LIQUID_PACKAGING if liquid else _SOLID_PACKAGING
    gross = count * (net * (1.0 + share) + fixed)
    if count > 1:
        gross += _OUTER_WRAP_G
    if gross > MAX_UNIT_G:
        return None
    return round(gross, 1)


def _normalise(raw: str) -> str:
    text = raw.upper().replace("-", " ").replace("*", " ")
    text = re.sub(r"\([^)]*\)", " ", text)  # "(600) 4 LB", "4 OZ(6)": case counts, not sizes
    text = re.sub(r"\bHALF\s+GAL", "1/2 GAL", text)
    text = re.sub(r"[.,]+(?=\s|$|/)", " ", text)  # trailing dots: "16 OZS.", "MED."
    return re.sub(r"\s+", " ", text).strip()


def _net_per_container(text: str) -> tuple[float | None, bool, int]:
    """(net grams per container, is liquid, containers per unit) or (None, False, 1)."""
    masses: list[tuple[str, float, int]] = []
    volumes: list[tuple[str, float, int]] = []
    for match in _QUANTITY.finditer(text):
        unit = _canonical_unit(match.group("unit"))
        amount = float(match.group("b"))
        count = 1
        if match.group("a") is not None:
            a = float(match.group("a"))
            if amount in _FRACTION_DENOMINATORS and a < amount:
                amount = a / amount  # "1/2 GAL"
            elif a == int(a) and a >= 1:
                count = int(a)  # "6/12 OZ": six containers of 12 oz
            else:
                continue
        if amount <= 0:
            continue
        if unit in GRAMS_PER_MASS_UNIT:
            masses.append((unit, amount * GRAMS_PER_MASS_UNIT[unit], count))
        else:
            volumes.append((unit, amount * GRAMS_PER_VOLUME_UNIT[unit], count))

    if not masses and not volumes:
        bare = _BARE_UNIT.match(text)
        if bare is None:
            return None, False, 1
        unit = _canonical_unit(bare.group("unit"))
        if unit in GRAMS_PER_MASS_UNIT:
            return GRAMS_PER_MASS_UNIT[unit], False, 1
        return GRAMS_PER_VOLUME_UNIT[unit], True, 1

    if masses:
        liquid = False
        if len(masses) >= 2 and masses[0][0] == "LB" and masses[1][0] == "OZ":
            net, count = masses[0][1] + masses[1][1], 1  # "2 LB 3 OZ"
        else:
            _, net, count = masses[0]
    else:
        liquid = True
        _, net, count = volumes[0]
    if count == 1:
        pack = _PACK.search(text)
        if pack is not None:
            count = int(pack.group(1))
    return net, liquid, max(count, 1)


def _canonical_unit(unit: str) -> str:
    unit = re.sub(r"\s+", " ", unit)
    unit = _UNIT_ALIASES.get(unit, unit)
    return _UNIT_ALIASES.get(unit.replace(" ", ""), unit)
