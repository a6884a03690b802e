import numpy as np
import pytest

from checkin_traj.geo import NYC_BOX, BoundingBox, haversine_km


def test_haversine_one_degree_of_latitude_is_111_km():
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=0.01)


def test_haversine_jfk_to_times_square():
    # JFK (40.6413, -73.7781) to Times Square (40.7580, -73.9855): about 21 km
    assert haversine_km(40.6413, -73.7781, 40.7580, -73.9855) == pytest.approx(21.5, abs=0.5)


def test_haversine_vectorised_and_zero_for_same_point():
    lat = np.array([40.7, 40.8])
    lon = np.array([-74.0, -73.9])
    np.testing.assert_allclose(haversine_km(lat, lon, lat, lon), [0.0, 0.0])


def test_box_contains_edges_and_excludes_outside():
    mask = NYC_BOX.contains([40.4774, 40.9176, 40.7, 41.0], [-74.2591, -73.7004, -74.5, -74.0])
    assert mask.tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lat_min=41.0, lat_max=40.0, lon_min=-74.0, lon_max=-73.0), "inverted"),
        (dict(lat_min=40.0, lat_max=40.0, lon_min=-74.0, lon_max=-73.0), "empty"),
        (dict(lat_min=40.0, lat_max=95.0, lon_min=-74.0, lon_max=-73.0), "90"),
        (dict(lat_min=float("nan"), lat_max=41.0, lon_min=-74.0, lon_max=-73.0), "finite"),
    ],
)
def test_bad_box_is_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BoundingBox(**kwargs)


def test_city_presets_set_box_time_zone_and_name():
    from checkin_traj.geo import CITIES, NYC_BOX, city

    assert city() == CITIES["new_york"] and city().box == NYC_BOX and city().timezone == "America/New_York"
    austin = city("austin")
    assert austin.name == "Austin" and austin.timezone == "America/Chicago"
    assert austin.box.contains(30.2672, -97.7431) and not NYC_BOX.contains(30.2672, -97.7431)  # downtown Austin
    for preset in CITIES.values():  # every preset's box holds its own centre and no other preset's
        assert sum(other.box.contains(*preset.box.center) for other in CITIES.values()) == 1
    changed = city("austin", timezone="UTC", name="Austin, in UTC")
    assert (changed.timezone, changed.name, changed.box) == ("UTC", "Austin, in UTC", austin.box)
    with pytest.raises(ValueError, match=r"CITY must be one of \['austin', 'chicago', 'new_york'"):
        city("paris")
    with pytest.raises(ValueError, match="timezone must be an IANA name"):
        city("austin", timezone="Mars/Olympus")
