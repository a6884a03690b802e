"""The book as a reader sees it: built from the test profile, opened in headless Chromium.

One session build (every chapter executed by papermill with the `test` parameters, then
`jupyter-book build -W -n`) serves all tests here. The browser checks need Debian's
`chromium` (installed by `make test` when run as root) and skip with a reason without it.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.request import urlopen

import pytest

from checkin_traj import build

from .conftest import REPO_ROOT
from .notebook_outputs import error_outputs, glued

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book")]

ARTIFACTS = REPO_ROOT / "build" / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


@pytest.fixture(scope="session")
def test_book(tmp_path_factory):
    return build.run("test", workdir=tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="session")
def served_book(test_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(test_book.html))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    profile = tmp_path_factory.mktemp("chromium-profile")

    def run(*arguments, timeout=60):
        command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        assert completed.returncode == 0, completed.stderr[-2000:]
        return completed.stdout

    return run


def _pages(html: Path) -> list[str]:
    pages = ["index.html"]
    pages += sorted(str(path.relative_to(html)) for path in (html / "notebooks").glob("*.html"))
    pages += sorted(str(path.relative_to(html)) for path in (html / "book").glob("*.html"))
    return pages


def test_every_chapter_ran_without_errors(test_book):
    assert list(test_book.notebooks) == build.toc_chapters(REPO_ROOT)
    for name, notebook in test_book.notebooks.items():
        assert error_outputs(notebook) == [], name


def test_every_chapter_warns_that_it_ran_on_synthetic_data(test_book):
    for name in test_book.notebooks:
        page = (test_book.html / "notebooks" / f"{name}.html").read_text()
        assert "Built from synthetic data" in page, name


def test_every_chapter_records_its_results(test_book):
    for name, notebook in test_book.notebooks.items():
        assert glued(notebook), f"{name} glues no results"


def test_every_page_loads_in_the_browser_without_error_output(test_book, served_book, chromium):
    for page in _pages(test_book.html):
        dom = chromium("--virtual-time-budget=3000", "--dump-dom", f"{served_book}/{page}")
        assert "<h1" in dom, page
        assert "Traceback (most recent call last)" not in dom, page
        assert 'class="output stderr"' not in dom and "output_stderr" not in dom, page


def test_every_figure_image_is_present_and_not_empty(test_book, served_book):
    import matplotlib.image

    checked = 0
    for page in _pages(test_book.html):
        html = (test_book.html / page).read_text()
        for source in re.findall(r'<img[^>]+src="([^"]+)"', html):
            if source.startswith(("http:", "https:", "data:")):
                continue
            url = f"{served_book}/{Path(page).parent.as_posix()}/{source}".replace("/./", "/")
            with urlopen(url) as response:
                body = response.read()
            assert response.status == 200 and len(body) > 1000, url
            if source.endswith(".png"):
                target = ARTIFACTS / "img.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                image = matplotlib.image.imread(target)
                assert min(image.shape[:2]) >= 100, url
                assert image.std() > 0, f"{url} is a blank image"
            checked += 1
    assert checked >= 7, "the chapters should show at least one figure each"


def test_search_finds_a_word_of_the_book(served_book, chromium):
    dom = chromium("--virtual-time-budget=8000", "--dump-dom", f"{served_book}/search.html?q=baseline")
    results = re.search(r'<ul class="search">(.*?)</ul>', dom, flags=re.S)
    assert results is not None and results.group(1).count("<li") >= 1, "search returned no results"


def test_screenshot_of_the_first_chapter_is_kept(served_book, chromium):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "01_data_cleaning.png"
    screenshot.unlink(missing_ok=True)
    chromium(
        f"--screenshot={screenshot}",
        "--window-size=1280,2400",
        "--virtual-time-budget=3000",
        f"{served_book}/notebooks/01_data_cleaning.html",
    )
    import matplotlib.image

    image = matplotlib.image.imread(screenshot)
    assert image.shape[0] >= 2000 and image.std() > 0.01


def test_rerunning_a_chapter_with_the_same_seed_gives_the_same_numbers(test_book, tmp_path):
    # Chapter 03 again, in a fresh WORKDIR holding only what chapters 01 and 02 wrote.
    workdir = tmp_path / "again"
    shutil.copytree(test_book.workdir / "data", workdir / "data")
    (workdir / "results").mkdir()
    for name in ("protocol", "baselines"):
        for path in (test_book.workdir / "results").glob(f"{name}.*"):
            shutil.copy2(path, workdir / "results" / path.name)
    again = build.run("test", chapters=["03_lstm"], book=False, workdir=workdir, root=REPO_ROOT)
    first = glued(test_book.notebooks["03_lstm"])
    second = glued(again.notebooks["03_lstm"])
    numbers = {key: value for key, value in first.items() if isinstance(value, float) and "seconds" not in key}
    assert numbers, "chapter 03 glues no numbers"
    for key, value in numbers.items():
        assert second[key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
