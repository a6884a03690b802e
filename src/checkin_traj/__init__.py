"""Predicting where and when Gowalla users check in next.

Public names are imported lazily (PEP 562), so ``import checkin_traj`` is cheap and
does not import TensorFlow until a model is built.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "geo": ["haversine_km", "BoundingBox", "NYC_BOX"],
    "data.snap": ["read_checkins", "read_edges", "InputError", "ReadReport"],
    "data.tables": ["read_table", "write_table"],
    "data.atomic": ["atomic_path"],
    "data.fetch": ["SNAP_REGISTRY", "fetch_snap", "DownloadError", "ChecksumError"],
    "data.synthetic": ["generate_checkins", "generate_edges", "write_snap_checkins", "write_snap_edges"],
    "data.sources": ["resolve_checkins", "DataSource"],
    "cleaning": [
        "assign_dense_ids",
        "sort_by_user_time",
        "drop_exact_duplicates",
        "filter_speed",
        "filter_stays",
        "filter_box",
        "clean",
        "CleaningReport",
        "label_removals",
        "threshold_sensitivity",
        "Thresholds",
    ],
    "data.provenance": ["save_clean", "load_clean", "read_provenance", "data_banner"],
    "sequences": ["build_windows", "WindowedData", "Split", "FEATURES", "TARGETS"],
    "metrics": ["scaled_scores", "human_errors", "evaluate", "ARTICLE_SCORES"],
    "baselines": [
        "persistence",
        "user_most_frequent",
        "user_mean",
        "global_mean",
        "markov_next",
        "run_baselines",
        "BASELINES",
    ],
    "models": ["build_lstm", "build_seq2seq", "build_transformer", "build_model", "MODEL_BUILDERS"],
    "training": ["set_seed", "train_model", "run_seeds", "TrainedModel", "SeedRuns"],
    "tuning": [
        "run_study",
        "grid_space",
        "ARTICLE_GRID",
        "trials_frame",
        "best_configuration",
        "hyperparameter_importance",
        "score_on_test",
    ],
    "comparison": ["comparison_table", "article_claims"],
    "results": ["save_results", "load_results"],
}

_NAME_TO_MODULE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_NAME_TO_MODULE)


def __getattr__(name):
    module = _NAME_TO_MODULE.get(name)
    if module is None:
        raise AttributeError(f"module 'checkin_traj' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
