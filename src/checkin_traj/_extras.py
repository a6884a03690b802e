"""The message when an optional part of the package is imported without its extra.

The base install (``pip install checkin-traj``) reads and cleans check-ins; the models,
the tuning chapter and the book need extras (``pyproject.toml``,
``[project.optional-dependencies]``). A module that needs one imports its heavy
dependency inside ``try`` and raises :func:`missing_extra`'s error instead of a bare
``ModuleNotFoundError``.
"""

from __future__ import annotations

__all__ = ["EXTRAS", "missing_extra"]

#: Extra -> what it adds (the names of ``[project.optional-dependencies]``).
EXTRAS = {
    "models": "TensorFlow and Keras (checkin_traj.training and the chapters' models, checkin_traj.pages)",
    "tuning": "Optuna and SQLAlchemy (checkin_traj.tuning)",
    "book": "jupyter-book, jupytext, papermill, matplotlib (executing and rendering the chapters)",
    "postgres": "psycopg2 (an Optuna study stored in PostgreSQL)",
}


def missing_extra(error: ImportError, *, extra: str, module: str) -> ImportError:
    """An ImportError that names the package ``error`` misses, the ``module`` being imported (e.g.
    ``"checkin_traj.training"``) and the ``extra`` (of :data:`EXTRAS`) that installs it."""
    if extra not in EXTRAS:
        raise ValueError(f"extra must be one of {sorted(EXTRAS)}, got {extra!r}")
    missing = getattr(error, "name", None) or str(error)
    message = (
        f"{module} needs {missing!s}, which is not installed: install the '{extra}' extra with "
        f"pip install 'checkin-traj[{extra}]' (from a clone: pip install -e '.[{extra}]'); "
        f"it adds {EXTRAS[extra]}"
    )
    new = ImportError(message, name=getattr(error, "name", None))
    new.__cause__ = error
    return new
