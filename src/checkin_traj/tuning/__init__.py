"""Hyperparameter search over the Seq2Seq model with Optuna: the article's grid and a sampler beyond it.

What a trial runs is on chapter 07's page (:mod:`checkin_traj.pages.tuning`):
``build_tunable_seq2seq``, ``objective`` (build, train with chapter 03's ``train_model``,
score on the **validation** windows) and the sampler's ``SEARCH_SPACE``. This package is the
plumbing around them: :mod:`~.space` (the grid, configurations, checks), :mod:`~.storage`
(journal file, PostgreSQL or SQLite), :mod:`~.study` (:func:`run_study`: resumable, shared
by any number of workers), :mod:`~.analysis` (reading a study, the chapter's tables) and
:mod:`~.cli` (``checkin-traj tune``). Optuna and TensorFlow are imported only when needed.
"""

from .analysis import (
    FANOVA_MIN_TRIALS, best_configuration, grid_table, hyperparameter_importance, test_table, trials_frame, trials_table,
)
from .space import (
    ACTIVATIONS, ARTICLE_BEST, ARTICLE_GRID, HYPERPARAMETER_LABELS, MIN_LAYERS, config_key, config_label,
    grid_configurations, grid_space, hyperparameter_names,
)
from .storage import (
    STORAGE_KINDS, StorageError, check_journal, check_workers, default_storage, journal_path, load_study, open_storage,
    redact, storage_kind, storage_url,
)
from .study import SAMPLERS, STUDY_SETTINGS, data_fingerprint, run_study, study_settings

__all__ = sorted(name for name in dir() if not name.startswith("_") and name not in ("analysis", "space", "storage", "study"))
