"""Shared fixtures: the real Gowalla samples in ../shared/data, skipped when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    env = os.environ.get("GOWALLA_DATA_DIR")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real Gowalla sample not found at {path} (set GOWALLA_DATA_DIR to its folder)")
    return path


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    return _require(_shared_data_dir())


@pytest.fixture(scope="session")
def nyc_checkins_path() -> Path:
    return _require(_shared_data_dir() / "gowalla-nyc" / "loc-gowalla_totalCheckins.nyc.txt.gz")


@pytest.fixture(scope="session")
def head_checkins_path() -> Path:
    return _require(_shared_data_dir() / "gowalla-head" / "loc-gowalla_totalCheckins.head10k.txt.gz")


@pytest.fixture(scope="session")
def head_edges_path() -> Path:
    return _require(_shared_data_dir() / "gowalla-head" / "loc-gowalla_edges.head10k.txt.gz")


@pytest.fixture(scope="session")
def executed_venues(tmp_path_factory):
    """Chapter 08 executed once, with the test profile on hand-made check-ins: ``(workdir, glued values)``,
    shared by test_chapter_08.py and test_predict.py (read it, never change it)."""
    from .chapter_workdirs import hopping_clean, prepare_workdir, run_chapter

    workdir = tmp_path_factory.mktemp("venues")
    prepare_workdir(workdir, hopping_clean(), source_path="tests/test_chapter_08.py")
    return workdir, run_chapter(workdir, "08_next_venue")


# The fresh copy of the repository and its `make book`, shared by test_docs.py and test_book.py.
from .book_session import made_book, newcomer_copy  # noqa: E402,F401
