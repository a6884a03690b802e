"""The book as a reader sees it: built from the test profile, opened in headless Chromium.

One session build serves all tests here: the README's `make book`, run in a fresh copy of
the repository with `CHECKIN_TRAJ_PROFILE=test` (every chapter executed by papermill with
the `test` parameters, then `jupyter-book build -W -n`; tests/book_session.py). The browser checks need Debian's
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

ARTIFACTS = REPO_ROOT / "build" / "test-artifacts"  # screenshots of every chapter (git-ignored)
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
def test_book(made_book):
    # The README's `make book`, run in a fresh copy with CHECKIN_TRAJ_PROFILE=test
    # (tests/book_session.py): the same build tests/test_docs.py checks as a recipe.
    return made_book


#: Measures the page as the reader sees it, once it has loaded (images included), and writes
#: the numbers as JSON into <pre id="layout-measurements">: paragraphs that begin with a
#: literal "- " (a list Markdown did not parse), every image's rendered and natural width
#: against the content column, every table's width and whether a scroll wrapper holds it.
MEASURE_JS = r"""
(function () {
  function measure() {
    var article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
    var out = {column: article.clientWidth, dash_paragraphs: [], images: [], tables: []};
    article.querySelectorAll("p").forEach(function (p) {
      var text = p.textContent;
      if (/^\s*- /.test(text) || /\n\s*- /.test(text)) out.dash_paragraphs.push(text.trim().slice(0, 120));
    });
    article.querySelectorAll("img").forEach(function (img) {
      out.images.push({src: img.getAttribute("src"), width: img.getBoundingClientRect().width,
                       natural: img.naturalWidth, loaded: img.complete && img.naturalWidth > 0});
    });
    article.querySelectorAll("table").forEach(function (table) {
      var scroll = false;
      for (var node = table.parentElement; node && node !== article.parentElement; node = node.parentElement) {
        var overflow = getComputedStyle(node).overflowX;
        if (overflow === "auto" || overflow === "scroll") { scroll = true; break; }
      }
      out.tables.push({width: table.getBoundingClientRect().width, scroll: scroll,
                       head: (table.textContent || "").replace(/\s+/g, " ").trim().slice(0, 60)});
    });
    var pre = document.createElement("pre");
    pre.id = "layout-measurements";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  if (document.readyState === "complete") { measure(); } else { window.addEventListener("load", measure); }
})();
"""
WINDOW = "--window-size=1280,2400"
FIGURE_SHARE = 0.8  # an image fills >= 80 % of the content column, or shows at its natural size


class _BookHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built book; ``page.html?measure=1`` gets :data:`MEASURE_JS` before ``</body>``."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if "measure=1" not in query or not path.endswith(".html"):
            return super().do_GET()
        body = Path(self.translate_path(path)).read_text(encoding="utf-8")
        data = body.replace("</body>", f"<script>{MEASURE_JS}</script></body>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _serve(directory: Path):
    handler = functools.partial(_BookHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="session")
def served_book(test_book):
    handler = functools.partial(_BookHandler, directory=str(test_book.html))
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


def _measure(chromium, url: str) -> dict:
    import html as html_module
    import json

    dom = chromium(WINDOW, "--virtual-time-budget=5000", "--dump-dom", f"{url}?measure=1")
    found = re.search(r'<pre id="layout-measurements"[^>]*>(.*?)</pre>', dom, flags=re.S)
    assert found is not None, f"{url}: the measuring script wrote nothing (the page never finished loading?)"
    return json.loads(html_module.unescape(found.group(1)))


@pytest.fixture(scope="session")
def layout(test_book, served_book, chromium) -> dict:
    """Page -> what :data:`MEASURE_JS` measured there (redirect pages left out)."""
    measured = {}
    for page in _pages(test_book.html):
        if (test_book.html / page).read_text()[:200].lower().startswith("<meta http-equiv=\"refresh\""):
            continue  # index.html only redirects to the first page
        measured[page] = _measure(chromium, f"{served_book}/{page}")
    assert len(measured) >= len(test_book.notebooks) + 2
    return measured


def _list_flaws(data: dict) -> list[str]:
    return [f"paragraph begins with a literal '- ' (an unparsed list?): {text!r}" for text in data["dash_paragraphs"]]


def _figure_flaws(data: dict) -> list[str]:
    flaws = []
    for image in data["images"]:
        if not image["loaded"]:
            flaws.append(f"{image['src']} did not load")
        elif image["width"] < FIGURE_SHARE * data["column"] and image["width"] < 0.98 * image["natural"]:
            flaws.append(
                f"{image['src']} shown {image['width']:.0f} px wide: under {FIGURE_SHARE:.0%} of the "
                f"{data['column']} px column and shrunk from its natural {image['natural']} px"
            )
    return flaws


def _table_flaws(data: dict) -> list[str]:
    return [
        f"table '{table['head']}' is {table['width']:.0f} px wide in a {data['column']} px column, with no scroll wrapper"
        for table in data["tables"]
        if table["width"] > data["column"] + 1 and not table["scroll"]
    ]


def _all_flaws(layout: dict, check) -> dict:
    return {page: flaws for page, data in layout.items() if (flaws := check(data))}


def test_lists_render_as_lists(layout):
    assert _all_flaws(layout, _list_flaws) == {}


def test_every_figure_fills_the_column_or_shows_at_its_natural_size(layout):
    assert sum(len(data["images"]) for data in layout.values()) >= 7
    assert _all_flaws(layout, _figure_flaws) == {}


def test_no_table_is_wider_than_its_column_without_a_scroll_wrapper(layout):
    assert _all_flaws(layout, _table_flaws) == {}


def test_the_layout_checks_find_the_flaws_they_look_for(chromium, tmp_path):
    # A page with each flaw once: an unparsed list, a shrunk figure, a table too wide.
    import matplotlib.image
    import numpy as np

    matplotlib.image.imsave(tmp_path / "wide.png", np.random.default_rng(0).random((60, 900)))
    cells = "".join(f"<td>column_{i}_with_a_long_name</td>" for i in range(40))
    (tmp_path / "flawed.html").write_text(
        "<html><body><main style='width:700px'><article class='bd-article'>"
        "<p>In this chapter you will\n- read the data;\n- clean it.</p>"
        "<p>- a list item as a paragraph</p><ul><li>a real list item</li></ul>"
        "<figure><img src='wide.png' style='width:200px'></figure><img src='wide.png' style='max-width:100%'>"
        f"<table><tr>{cells}</tr></table>"
        f"<div style='overflow-x:auto'><table><tr>{cells}</tr></table></div>"
        "</article></main></body></html>"
    )
    server = _serve(tmp_path)
    try:
        data = _measure(chromium, f"http://127.0.0.1:{server.server_port}/flawed.html")
    finally:
        server.shutdown()
        server.server_close()
    assert data["column"] == 700
    assert len(_list_flaws(data)) == 2
    figure_flaws = _figure_flaws(data)
    assert len(figure_flaws) == 1 and "shown 200 px" in figure_flaws[0], figure_flaws
    table_flaws = _table_flaws(data)
    assert len(table_flaws) == 1 and len(data["tables"]) == 2, data["tables"]


def test_a_screenshot_of_each_chapter_is_kept(test_book, served_book, chromium):
    import matplotlib.image

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in test_book.notebooks:
        screenshot = ARTIFACTS / f"{name}.png"
        screenshot.unlink(missing_ok=True)
        chromium(f"--screenshot={screenshot}", WINDOW, "--virtual-time-budget=3000", f"{served_book}/notebooks/{name}.html")
        image = matplotlib.image.imread(screenshot)
        assert image.shape[0] >= 2000 and image.std() > 0.01, f"{screenshot} is blank"


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
