"""Re-write the chapters (notebooks/*.md) exactly as jupytext writes them.

Saving a chapter from Jupyter (jupytext's pairing, ``jupytext.toml``) re-writes the text
file; a chapter already in jupytext's own form gives no diff then. This script puts every
chapter in that form (``make format-notebooks``); ``tests/test_docs.py`` checks it.

One normalisation goes beyond jupytext: a figure caption written over several lines
(a YAML ``|`` block) becomes one line, which YAML then folds at 80 columns. The rendered
caption is the same (Markdown joins the lines with spaces); jupytext would otherwise write
the block as a quoted string with blank lines between its lines.

Usage::

    python tools/format_notebooks.py [--check] [notebooks/01_data_cleaning.md ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
from jupytext.config import load_jupytext_config

ROOT = Path(__file__).resolve().parents[1]
FORMAT = "md:myst"


def _one_line_captions(notebook) -> None:
    for cell in notebook.cells:
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        caption = figure.get("caption")
        if isinstance(caption, str) and "\n" in caption:
            figure["caption"] = " ".join(caption.split())


def formatted(path: Path) -> str:
    """The chapter's text as jupytext writes it (with the project's ``jupytext.toml``)."""
    config = load_jupytext_config(str(ROOT / "notebooks"))
    notebook = jupytext.read(path, fmt=FORMAT, config=config)
    _one_line_captions(notebook)
    return jupytext.writes(notebook, fmt=FORMAT, config=config)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="default: notebooks/[0-9]*.md")
    parser.add_argument("--check", action="store_true", help="only list the chapters that would change")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("[0-9]*.md"))
    changed = []
    for path in paths:
        text = path.read_text()
        new = formatted(path)
        if new != text:
            changed.append(path)
            if not args.check:
                path.write_text(new)
    verb = "would change" if args.check else "re-written"
    for path in changed:
        print(f"{verb}: {path}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
