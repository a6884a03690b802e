"""Hyperparameter search over the Seq2Seq model with Optuna: the article's grid and a sampler beyond it.

What a trial runs is on chapter 07's page (:mod:`checkin_traj.pages.tuning`); this package is the
plumbing around it: :mod:`~.space`, :mod:`~.storage`, :mod:`~.study` (:func:`run_study`),
:mod:`~.analysis` and :mod:`~.cli` (``checkin-traj tune``). Optuna and TensorFlow are imported only when needed.
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
