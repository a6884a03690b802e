"""Hyperparameter search over the Seq2Seq model with Optuna: the article's grid and a sampler beyond it.

What a trial runs is on chapter 07's page and exported to :mod:`checkin_traj.pages.tuning`:
``build_tunable_seq2seq`` (the article's Seq2Seq with ``num_layers``, which counts every
LSTM layer, the decoder included, ``activation`` and ``learning_rate`` as arguments),
``objective`` (build, train with chapter 03's ``train_model``, score on the **validation**
windows) and the sampler's ``SEARCH_SPACE``. The chosen configuration is scored on the test
windows by chapter 03's ``train_seeds``, on the page. This package is the plumbing around
them, by concept:

- :mod:`~checkin_traj.tuning.space`: the grid (:data:`ARTICLE_GRID`), configurations as keys
  and labels, and the checks of grids and spaces (names from the page's builder);
- :mod:`~checkin_traj.tuning.storage`: storage URLs (a journal file by default, PostgreSQL for
  several machines, SQLite for one process) and opening them;
- :mod:`~checkin_traj.tuning.study`: :func:`run_study`, which calls the objective on every
  configuration (resumable, shared by any number of workers);
- :mod:`~checkin_traj.tuning.analysis`: :func:`trials_frame`, :func:`best_configuration`,
  :func:`hyperparameter_importance` and the chapter's tables;
- :mod:`~checkin_traj.tuning.cli`: ``checkin-traj tune``, a worker any machine can start.

Optuna and TensorFlow are imported only when a function needs them.
"""

from .analysis import (
    FANOVA_MIN_TRIALS,
    best_configuration,
    grid_table,
    hyperparameter_importance,
    test_table,
    trials_frame,
    trials_table,
)
from .space import (
    ACTIVATIONS,
    ARTICLE_BEST,
    ARTICLE_GRID,
    HYPERPARAMETER_LABELS,
    MIN_LAYERS,
    config_key,
    config_label,
    grid_configurations,
    grid_space,
    hyperparameter_names,
)
from .storage import (
    STORAGE_KINDS,
    StorageError,
    check_journal,
    check_workers,
    default_storage,
    journal_path,
    load_study,
    open_storage,
    redact,
    storage_kind,
    storage_url,
)
from .study import SAMPLERS, STUDY_SETTINGS, data_fingerprint, run_study, study_settings

__all__ = [
    "ACTIVATIONS",
    "ARTICLE_BEST",
    "ARTICLE_GRID",
    "FANOVA_MIN_TRIALS",
    "HYPERPARAMETER_LABELS",
    "MIN_LAYERS",
    "SAMPLERS",
    "STORAGE_KINDS",
    "STUDY_SETTINGS",
    "StorageError",
    "best_configuration",
    "check_journal",
    "check_workers",
    "config_key",
    "config_label",
    "data_fingerprint",
    "default_storage",
    "grid_configurations",
    "grid_space",
    "grid_table",
    "hyperparameter_importance",
    "hyperparameter_names",
    "journal_path",
    "load_study",
    "open_storage",
    "redact",
    "run_study",
    "storage_kind",
    "storage_url",
    "study_settings",
    "test_table",
    "trials_frame",
    "trials_table",
]
