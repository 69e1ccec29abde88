"""The re-rounding check: a quantized variant that loses the adapter's measured gain is named."""

from __future__ import annotations

from ghostwright.tune.run import erased


def uplift(exact: tuple[float, float], similarity: tuple[float, float]) -> dict[str, object]:
    return {"exact_difference": {"ci95": list(exact)}, "edit_similarity_difference": {"ci95": list(similarity)}}


def test_a_variant_that_keeps_the_gain_is_not_flagged() -> None:
    assert not erased(uplift((0.02, 0.1), (0.01, 0.2)), uplift((0.0, 0.08), (0.005, 0.1)))


def test_a_variant_whose_interval_reaches_zero_lost_the_gain() -> None:
    assert erased(uplift((0.02, 0.1), (0.01, 0.2)), uplift((-0.03, 0.05), (-0.02, 0.04)))


def test_nothing_gained_in_the_first_place_is_nothing_erased() -> None:
    assert not erased(uplift((-0.01, 0.05), (-0.02, 0.1)), uplift((-0.05, 0.0), (-0.1, 0.0)))
