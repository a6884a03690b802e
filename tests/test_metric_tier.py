"""The metric tier (see tests/metric_tier.py): a regression in quality fails a test.

``sample``: chapters 01-02 on the real NYC sample, counts exact and other numbers to 1e-6; ``metrics``: chapters 03-05 and 08 in
the workshop profile, with tolerances (``make metrics``; deselected by default).
"""

import pytest

from .metric_tier import TIERS, TOLERANCE, load_recorded, run_tier


def _recorded(tier):
    recorded = load_recorded().get(tier)
    if not recorded:
        pytest.skip(f"no recorded values for tier {tier!r}: run `python -m tests.metric_tier --record {tier}`")
    return recorded


def _compare(recorded, found, *, rel, abs_, exact_counts=False):
    mismatches = []
    for chapter, values in recorded.items():
        for name, expected in values.items():
            actual = found.get(chapter, {}).get(name)
            if actual is None:
                mismatches.append(f"{chapter}: {name} no longer glued")
            elif isinstance(expected, int) and exact_counts:
                if actual != expected:
                    mismatches.append(f"{chapter}: {name} = {actual}, recorded {expected}")
            elif actual != pytest.approx(expected, rel=rel, abs=abs_):
                mismatches.append(f"{chapter}: {name} = {actual}, recorded {expected}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.slow
@pytest.mark.sample
def test_chapters_01_02_match_the_recorded_numbers_exactly(nyc_checkins_path, tmp_path):
    recorded = _recorded("sample")
    # counts exactly; other numbers to 1e-6 (library versions move the last digits of a float)
    _compare(recorded, run_tier("sample", tmp_path), rel=1e-6, abs_=1e-9, exact_counts=True)


@pytest.mark.slow
@pytest.mark.metrics
def test_model_chapters_match_the_recorded_numbers_within_tolerance(nyc_checkins_path, tmp_path):
    recorded = _recorded("metrics")
    assert set(recorded) == set(TIERS["metrics"])
    _compare(recorded, run_tier("metrics", tmp_path), rel=TOLERANCE["rel"], abs_=TOLERANCE["abs"])
