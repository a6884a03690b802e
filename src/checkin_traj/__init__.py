"""Predicting where and when Gowalla users check in next.

The root imports the light public API eagerly: reading, cleaning, windows, metrics,
baselines, verdicts and results. TensorFlow and optuna stay behind the modules that need
them (``checkin_traj.pages.*``, ``checkin_traj.training``, ``checkin_traj.tuning``): import
those directly, so ``import checkin_traj`` stays cheap.
"""

__version__ = "0.1.0"

from .checks import check_choice, check_fraction, check_int, check_positive, check_real
from .geo import NYC_BOX, BoundingBox, haversine_km
from .data.snap import InputError, ReadReport, read_checkins, read_edges
from .data.tables import read_table, write_table
from .data.atomic import atomic_path
from .data.fetch import SNAP_REGISTRY, ChecksumError, DownloadError, fetch_snap
from .data.synthetic import generate_checkins, generate_edges, write_snap_checkins, write_snap_edges
from .data.sources import DataSource, resolve_checkins
from .cleaning import (
    CleaningReport, Thresholds, assign_dense_ids, clean, drop_exact_duplicates, filter_box, filter_speed, filter_stays,
    label_removals, sort_by_user_time, threshold_sensitivity,
)
from .data.provenance import data_banner, load_clean, read_provenance, save_clean
from .sequences import FEATURES, TARGETS, Split, WindowedData, build_windows
from .metrics import ARTICLE_SCORES, evaluate, human_errors, scaled_scores
from .baselines import BASELINES, global_mean, markov_next, persistence, run_baselines, user_mean, user_most_frequent
from .uncertainty import Interval, paired_bootstrap, user_bootstrap
from .verdicts import BEATS, LOSES, WITHIN_NOISE, Verdict, best_run, compare, strongest_baseline, versus_baseline
from .results import load_results, results_payload, save_results
from .comparison import comparison_table, saved_predictions, seed_scores

import types as _types


def __getattr__(name):
    """``predict`` (chapter 08's saved ranker on new histories), imported when first used."""
    if name == "predict":
        from .venues.predictor import predict

        return predict
    raise AttributeError(f"module 'checkin_traj' has no attribute {name!r}")


#: Every public name above (submodules excluded), and ``predict``.
__all__ = sorted([name for name, value in dict(globals()).items() if not name.startswith("_") and not isinstance(value, _types.ModuleType)] + ["predict"])
