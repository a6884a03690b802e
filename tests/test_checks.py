import math

import numpy as np
import pytest

from checkin_traj.checks import check_choice, check_fraction, check_int, check_positive, check_real


def test_check_int_converts_numpy_integers():
    value = check_int("epochs", np.int64(3), minimum=1)
    assert value == 3 and type(value) is int


@pytest.mark.parametrize("bad", [True, 2.0, "3", None])
def test_check_int_rejects_non_integers_naming_the_argument(bad):
    with pytest.raises(ValueError, match="epochs must be an integer"):
        check_int("epochs", bad, minimum=1)


def test_check_int_bounds_are_inclusive():
    assert check_int("k", 1, minimum=1, maximum=2) == 1
    assert check_int("k", 2, minimum=1, maximum=2) == 2
    with pytest.raises(ValueError, match=r"in \[1, 2\], got 3"):
        check_int("k", 3, minimum=1, maximum=2)
    with pytest.raises(ValueError, match=">= 1, got 0"):
        check_int("k", 0, minimum=1)


def test_check_positive_inf_only_when_allowed():
    assert check_positive("max_speed_kmh", math.inf, allow_inf=True) == math.inf
    with pytest.raises(ValueError, match="finite"):
        check_positive("max_speed_kmh", math.inf)
    with pytest.raises(ValueError, match="positive"):
        check_positive("max_speed_kmh", 0.0)
    with pytest.raises(ValueError, match="type str"):
        check_positive("max_speed_kmh", "100")


def test_check_real_rejects_nan_and_minimum():
    with pytest.raises(ValueError, match="finite"):
        check_real("x", float("nan"))
    with pytest.raises(ValueError, match=">= 0"):
        check_real("x", -0.5, minimum=0)


def test_check_fraction_interval_ends():
    assert check_fraction("dropout", 0.0) == 0.0
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        check_fraction("dropout", 1.0)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        check_fraction("test_fraction", 0.0, low_open=True)
    assert check_fraction("share", 1.0, high_open=False) == 1.0


def test_check_choice_lists_the_choices():
    assert check_choice("mode", "offset", ("absolute", "offset")) == "offset"
    with pytest.raises(ValueError, match="'absolute', 'offset'; got 'relative'"):
        check_choice("mode", "relative", ("absolute", "offset"))
