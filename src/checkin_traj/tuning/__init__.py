"""Hyperparameter search over the Seq2Seq model with Optuna: the article's grid and a sampler beyond it.

Every trial trains the **article's form** of the Seq2Seq model
(``checkin_traj.models.build_model("seq2seq", variant="article")``, whose ``num_layers``
counts every LSTM layer: the article's "three LSTM layers" is ``num_layers=3``) with
:func:`checkin_traj.training.train_model`, and is scored on the **validation** split (RMSE on
the scaled targets, the article's number); the test split is touched only by
:func:`score_on_test`, once, for the configuration chosen on validation.

The package, by concept:

- :mod:`~checkin_traj.tuning.space`: the grid (:data:`ARTICLE_GRID`), the sampler's space,
  configurations as keys and labels;
- :mod:`~checkin_traj.tuning.storage`: storage URLs (a journal file by default, PostgreSQL for
  several machines, SQLite for one process) and opening them;
- :mod:`~checkin_traj.tuning.study`: :func:`run_study` and its objective (resumable, shared by
  any number of workers);
- :mod:`~checkin_traj.tuning.analysis`: :func:`trials_frame`, :func:`best_configuration`,
  :func:`hyperparameter_importance`;
- :mod:`~checkin_traj.tuning.scoring`: :func:`score_on_test`, through
  :func:`checkin_traj.training.run_seeds`;
- :mod:`~checkin_traj.tuning.cli`: ``checkin-traj tune``, a worker any machine can start.

Optuna and TensorFlow are imported only when a function needs them.
"""

from .analysis import FANOVA_MIN_TRIALS, best_configuration, hyperparameter_importance, trials_frame
from .scoring import score_on_test
from .space import (
    ARTICLE_BEST,
    ARTICLE_GRID,
    MODEL,
    VARIANT,
    check_config,
    config_key,
    config_label,
    grid_configurations,
    grid_space,
    min_layers,
    search_space,
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
from .study import SAMPLERS, STUDY_SETTINGS, data_fingerprint, model_data, run_study, study_settings

__all__ = [
    "ARTICLE_BEST",
    "ARTICLE_GRID",
    "FANOVA_MIN_TRIALS",
    "MODEL",
    "SAMPLERS",
    "STORAGE_KINDS",
    "STUDY_SETTINGS",
    "VARIANT",
    "StorageError",
    "best_configuration",
    "check_config",
    "check_journal",
    "check_workers",
    "config_key",
    "config_label",
    "data_fingerprint",
    "default_storage",
    "grid_configurations",
    "grid_space",
    "hyperparameter_importance",
    "journal_path",
    "load_study",
    "min_layers",
    "model_data",
    "open_storage",
    "redact",
    "run_study",
    "score_on_test",
    "search_space",
    "storage_kind",
    "storage_url",
    "study_settings",
    "trials_frame",
]
