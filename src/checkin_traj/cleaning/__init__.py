"""Cleaning check-ins: the thresholds, the (user, time) order, the compiled pass, the steps, the report.

- :mod:`~checkin_traj.cleaning.thresholds`: :class:`Thresholds`, the five settings as one value;
- :mod:`~checkin_traj.cleaning.order`: the frame's columns and checks, sort order, dense ids;
- :mod:`~checkin_traj.cleaning.kernel`: the compiled pass labelling each row with its removal reason;
- :mod:`~checkin_traj.cleaning.steps`: the steps as functions, and :func:`clean` running them all;
- :mod:`~checkin_traj.cleaning.report`: :class:`CleaningReport` and :func:`threshold_sensitivity`.
"""

from .order import CLEAN_COLUMNS, RAW_COLUMNS, assign_dense_ids, sort_by_user_time
from .report import CleaningReport, threshold_sensitivity
from .steps import clean, drop_exact_duplicates, filter_box, filter_speed, filter_stays, label_removals
from .thresholds import Thresholds

__all__ = [
    "Thresholds", "assign_dense_ids", "sort_by_user_time", "drop_exact_duplicates", "filter_speed", "filter_stays",
    "filter_box", "clean", "label_removals", "CleaningReport", "threshold_sensitivity", "RAW_COLUMNS", "CLEAN_COLUMNS",
]
