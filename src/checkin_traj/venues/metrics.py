"""Ranking metrics over venues, per window (so intervals can resample users).

A ranking is an int array ``ranked`` of shape (n, k): row i holds venue ids, best first,
padded with -1 where fewer than k venues were ranked. ``target`` (n,) holds the true venue.
"""

from __future__ import annotations

import numpy as np

from ..checks import check_int
from ..geo import haversine_km

__all__ = ["hit_rank", "acc_at_k", "reciprocal_rank", "ndcg_at_k", "top_km_error", "summary"]


def _check(ranked, target):
    ranked = np.asarray(ranked)
    target = np.asarray(target)
    if ranked.ndim != 2 or target.ndim != 1 or len(ranked) != len(target):
        raise ValueError(f"ranked must be (n, k) and target (n,); found {ranked.shape} and {target.shape}")
    return ranked, target


def hit_rank(ranked, target) -> np.ndarray:
    """0-based position of the target in each row, -1 when it is not ranked."""
    ranked, target = _check(ranked, target)
    hits = (ranked == target[:, None]) & (ranked >= 0)
    found = hits.any(axis=1)
    return np.where(found, hits.argmax(axis=1), -1)


def acc_at_k(ranked, target, k: int) -> np.ndarray:
    """1.0 where the target is among the first ``k`` venues, else 0.0 (per window)."""
    k = check_int("k", k, minimum=1)
    rank = hit_rank(ranked, target)
    return ((rank >= 0) & (rank < k)).astype(float)


def reciprocal_rank(ranked, target) -> np.ndarray:
    """1 / (rank + 1) of the target, 0.0 when it is not ranked (per window)."""
    rank = hit_rank(ranked, target)
    return np.where(rank >= 0, 1.0 / (np.maximum(rank, 0) + 1.0), 0.0)


def ndcg_at_k(ranked, target, k: int = 10) -> np.ndarray:
    """NDCG@k with one relevant venue: 1 / log2(rank + 2) inside the first k, else 0."""
    k = check_int("k", k, minimum=1)
    rank = hit_rank(ranked, target)
    return np.where((rank >= 0) & (rank < k), 1.0 / np.log2(np.maximum(rank, 0) + 2.0), 0.0)


def top_km_error(ranked, target_lat, target_lon, venue_lat, venue_lon) -> np.ndarray:
    """Haversine km from the top-ranked venue to the true check-in (NaN where none ranked)."""
    ranked = np.asarray(ranked)
    top = ranked[:, 0]
    venue_lat = np.asarray(venue_lat, dtype=float)
    venue_lon = np.asarray(venue_lon, dtype=float)
    ok = top >= 0
    lat = np.where(ok, venue_lat[np.where(ok, top, 0)], np.nan)
    lon = np.where(ok, venue_lon[np.where(ok, top, 0)], np.nan)
    return np.asarray(haversine_km(lat, lon, np.asarray(target_lat, float), np.asarray(target_lon, float)), dtype=float)


def summary(ranked, target, km=None) -> dict:
    """Means of the per-window metrics: acc@1/5/10, mrr, ndcg@10 and, given km, km figures."""
    out = {f"acc@{k}": float(acc_at_k(ranked, target, k).mean()) for k in (1, 5, 10)}
    out["mrr"] = float(reciprocal_rank(ranked, target).mean())
    out["ndcg@10"] = float(ndcg_at_k(ranked, target, 10).mean())
    if km is not None:
        km = np.asarray(km, dtype=float)
        out["km_mean"] = float(np.nanmean(km))
        out["km_median"] = float(np.nanmedian(km))
        out["within_1km"] = float(np.nanmean(km <= 1.0))
    return out
