"""Reading what an executed chapter recorded: glued values, errors, stderr."""

from __future__ import annotations

import ast

import nbformat

GLUE_PREFIX = "application/papermill.record/"


def glued(notebook_path, mime="text/plain") -> dict:
    """Values a notebook recorded with ``myst_nb.glue``, parsed back from their text form.

    ``mime="text/markdown"``: the text of the values glued as Markdown (``*_md``), whose plain
    form is only the ``Markdown`` object's repr; ``None`` for every other value.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            text = output["data"].get(GLUE_PREFIX + mime)
            if text is None:
                values[name] = None
                continue
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text.strip("'\"")
    return values


def error_outputs(notebook_path) -> list[str]:
    """Error outputs and tracebacks printed to stderr, as 'cell N: text' lines."""
    notebook = nbformat.read(notebook_path, as_version=4)
    problems = []
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {number}: {output.get('ename')}: {output.get('evalue')}")
            elif output.get("output_type") == "stream" and "Traceback" in output.get("text", ""):
                problems.append(f"cell {number}: traceback on {output.get('name')}")
    return problems
