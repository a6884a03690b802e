import csv

import pandas as pd
import pytest

from checkin_traj.data.provenance import banner_text, load_clean, read_provenance, save_clean, write_provenance
from checkin_traj.data.sources import DataSource


def _clean_frame():
    return pd.DataFrame(
        {
            "user": [0, 0, 1],
            "snap_user": [7, 7, 9],
            "time": pd.to_datetime(["2010-01-01T10:00:00Z", "2010-01-01T12:00:00Z", "2010-01-02T08:00:00Z"]),
            "lat": [40.70, 40.71, 40.80],
            "lon": [-74.00, -73.99, -73.95],
            "location_id": [1, 2, 3],
        }
    )


def test_clean_data_round_trips_through_parquet_and_csv(tmp_path):
    paths = save_clean(tmp_path, _clean_frame())
    pd.testing.assert_frame_equal(load_clean(tmp_path), _clean_frame(), check_dtype=False)
    with open(paths["csv"], newline="") as handle:
        assert next(csv.reader(handle)) == list(_clean_frame().columns)


def test_missing_clean_data_points_to_chapter_01(tmp_path):
    with pytest.raises(FileNotFoundError, match="chapter 01"):
        load_clean(tmp_path)
    with pytest.raises(FileNotFoundError, match="chapter 01"):
        read_provenance(tmp_path)


@pytest.mark.parametrize("synthetic, expected", [(True, "synthetic"), (False, "Data:")])
def test_banner_names_the_source_and_warns_on_synthetic_data(tmp_path, synthetic, expected):
    source = DataSource(
        path=tmp_path / "x.txt.gz",
        kind="synthetic" if synthetic else "file",
        synthetic=synthetic,
        description="a description",
        citation="",
    )
    write_provenance(tmp_path, source=source, parameters={"max_speed_kmh": 500.0})
    text = banner_text(read_provenance(tmp_path))
    assert expected in text and "a description" in text
    assert text.startswith(":::{warning}") == synthetic
    assert read_provenance(tmp_path)["parameters"] == {"max_speed_kmh": 500.0}
