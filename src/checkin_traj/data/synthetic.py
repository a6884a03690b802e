"""Deterministic synthetic check-ins in SNAP format, for offline use and fast tests.

The generator imitates the structure of the Gowalla data, not its numbers: a shared pool of venues (``location_id``
with fixed coordinates) clustered in neighbourhoods inside the box, with Zipf-like popularity; per user a home and a
work neighbourhood, a few favourite venues and a heavy-tailed (log-normal) number of check-ins; a daily rhythm (few
check-ins at night, peaks at lunch and in the evening, local time) and a weekly one (the work neighbourhood on
weekday working hours, leisure otherwise); consecutive check-ins at most ``80 km/h`` and at least 5 minutes apart.

Then faults are injected so every cleaning step has work, each rate the expected fraction of output rows carrying
that fault: ``"teleport"`` (a check-in minutes after another, on another continent or in the box's far corner),
``"repeat"`` (bursts of 1-3 extra check-ins at the same venue, metres and minutes apart), ``"outside"`` (a check-in
moved 1-30 km outside the box), ``"duplicate"`` (a line's exact copy after it). Local time is the box centre's
longitude / 15 hours from UTC (-5 h for New York; daylight saving is ignored). Output is ordered like SNAP: users
ascending, newest check-in first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv

from ..checks import check_int
from ..geo import EARTH_RADIUS_KM, NYC_BOX, BoundingBox, haversine_km
from .atomic import atomic_path

FAULT_KINDS = ("teleport", "repeat", "outside", "duplicate")
MAX_PLAUSIBLE_SPEED_KMH = 80.0  # speed cap between clean consecutive check-ins, km/h
MIN_GAP_S = 300  # seconds between clean consecutive check-ins
VENUES_PER_USER = 3.0  # default pool size per user (the NYC sample has ~3 locations per user)
VENUES_PER_NEIGHBOURHOOD = 100
NEIGHBOURHOOD_SD_KM = 0.6  # spread of venues around their neighbourhood centre, km
FAVOURITES = 4  # favourite venues per user
_KM_PER_DEGREE = np.pi * EARTH_RADIUS_KM / 180.0

# Relative check-in intensity per local hour 0..23 (weekday, weekend).
_WEEKDAY_HOURS = np.array(
    [0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.6, 1.3, 2.0, 2.1, 2.0, 2.6, 3.6, 3.0, 2.4, 2.3, 2.5, 3.0, 3.6, 3.8, 3.4, 2.7, 1.9, 1.1]
)
_WEEKEND_HOURS = np.array(
    [1.0, 0.7, 0.45, 0.3, 0.2, 0.15, 0.2, 0.4, 0.8, 1.4, 2.0, 2.8, 3.4, 3.5, 3.4, 3.2, 3.1, 3.2, 3.4, 3.6, 3.5, 3.1, 2.4, 1.6]
)
# Venue context probabilities (work area, favourites, home area, city-wide popular).
_CONTEXT_WORKING_HOURS = np.array([0.55, 0.2, 0.1, 0.15])
_CONTEXT_LEISURE = np.array([0.03, 0.3, 0.35, 0.32])
# Far destinations for teleports (lat, lon): London, Tokyo, Sydney, Sao Paulo, Paris,
# Moscow, Cape Town, Mumbai, Beijing, Los Angeles, Mexico City, Lagos.
_FAR_CITIES = np.array(
    [
        [51.507, -0.128], [35.690, 139.692], [-33.869, 151.209], [-23.551, -46.633],
        [48.857, 2.352], [55.756, 37.617], [-33.925, 18.424], [19.076, 72.878],
        [39.904, 116.407], [34.052, -118.244], [19.433, -99.133], [6.524, 3.379],
    ]
)  # fmt: skip
_MIN_FAR_KM = 1000.0  # far cities closer than this to the box centre are not used


def _check_rate(name, value):
    if not (isinstance(value, (int, float)) and 0.0 <= value < 0.5):
        raise ValueError(f"{name} must be a fraction in [0, 0.5), got {value!r}")


def _rngs(seed, count):
    """Independent generators for the parts of the data, all from one seed."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(count)]


def _user_ids(n_users, seed):
    """SNAP-like user ids: sorted, unique, with gaps (shared by check-ins and edges)."""
    (rng,) = _rngs([seed, 1], 1)
    return np.sort(rng.choice(n_users + n_users // 10 + 1, size=n_users, replace=False)).astype(np.int64)


def _in_box(rng, box, size, *, centre=None, sd_fraction=None):
    """Points in the box: uniform, or Gaussian around ``centre`` clipped to the box."""
    if centre is None:
        lat = rng.uniform(box.lat_min, box.lat_max, size)
        lon = rng.uniform(box.lon_min, box.lon_max, size)
    else:
        lat = rng.normal(centre[0], sd_fraction * (box.lat_max - box.lat_min), size)
        lon = rng.normal(centre[1], sd_fraction * (box.lon_max - box.lon_min), size)
    return np.clip(lat, box.lat_min, box.lat_max), np.clip(lon, box.lon_min, box.lon_max)


def _jitter_km(rng, lat, lon, sd_km, box=None):
    lat = lat + rng.normal(0.0, sd_km / _KM_PER_DEGREE, np.shape(lat))
    lon = lon + rng.normal(0.0, sd_km / _KM_PER_DEGREE, np.shape(lon)) / np.cos(np.radians(lat))
    if box is not None:
        lat = np.clip(lat, box.lat_min, box.lat_max)
        lon = np.clip(lon, box.lon_min, box.lon_max)
    return lat, lon


class _VenuePool:
    """Venues sorted by neighbourhood, with popularity and per-neighbourhood sampling."""

    def __init__(self, rng, box, n_venues):
        n_hoods = int(np.clip(n_venues // VENUES_PER_NEIGHBOURHOOD, 1, 5000))
        downtown = n_hoods // 2  # half the neighbourhoods crowd around a downtown
        downtown_centre = _in_box(rng, box, 1, centre=box.center, sd_fraction=0.1)
        hood_lat = np.empty(n_hoods)
        hood_lon = np.empty(n_hoods)
        hood_lat[:downtown], hood_lon[:downtown] = _in_box(
            rng, box, downtown, centre=(downtown_centre[0][0], downtown_centre[1][0]), sd_fraction=0.08
        )
        hood_lat[downtown:], hood_lon[downtown:] = _in_box(rng, box, n_hoods - downtown)
        hood = np.sort(np.concatenate([np.arange(n_hoods), rng.integers(0, n_hoods, n_venues - n_hoods)]))
        self.lat, self.lon = _jitter_km(rng, hood_lat[hood], hood_lon[hood], NEIGHBOURHOOD_SD_KM, box)
        self.location_id = np.empty(0, dtype=np.int64)  # set by the caller (shared id space)
        self.n_hoods = n_hoods
        self.n_downtown = max(downtown, 1)
        popularity = 1.0 / (rng.permutation(n_venues) + 1.0)  # Zipf: the k-th most popular has weight 1/k
        self.global_cdf = np.cumsum(popularity) / popularity.sum()
        cumulative = np.cumsum(popularity)
        starts = np.searchsorted(hood, np.arange(n_hoods))
        ends = np.append(starts[1:], n_venues)
        before = np.where(starts > 0, cumulative[starts - 1], 0.0)
        totals = cumulative[ends - 1] - before
        # key = neighbourhood + share of its popularity so far, increasing across the pool
        self.hood_key = hood + (cumulative - before[hood]) / totals[hood]
        self.hood_key[ends - 1] = np.arange(n_hoods) + 1.0

    def in_hood(self, rng, hoods):
        """One venue index per entry of ``hoods``, by popularity within the neighbourhood."""
        position = np.searchsorted(self.hood_key, hoods + rng.random(hoods.size), side="left")
        return np.minimum(position, self.hood_key.size - 1)

    def anywhere(self, rng, size):
        """Venue indices by city-wide popularity."""
        return np.minimum(np.searchsorted(self.global_cdf, rng.random(size)), self.global_cdf.size - 1)


def generate_checkins(
    *, n_users=300, seed=0, box=NYC_BOX, start="2009-06-01", days=180, n_venues=None, teleport_rate=0.01,
    repeat_burst_rate=0.02, outside_rate=0.01, duplicate_rate=0.002, return_faults=False,
):
    """Generate raw check-ins with realistic structure and injected faults (the module's docstring describes both).

    ``n_users``: users (each has at least one check-in); ~32 check-ins per user on average, so ``n_users=196_591``
    gives about the 6.4 million rows of the SNAP file. ``seed``: of every random choice (the same seed gives identical
    output). ``box``: the city; every clean check-in lies inside it. ``start``, ``days``: first day (UTC) and length in
    days of the period. ``n_venues``: size of the shared venue pool; default ``3 * n_users`` (at least 20).
    ``teleport_rate``, ``repeat_burst_rate``, ``outside_rate``, ``duplicate_rate``: expected fraction of output rows
    that are teleports, burst repeats, points outside the box and exact duplicate lines, each in [0, 0.5). Returns a
    pandas.DataFrame of raw check-ins (``user``, ``time`` datetime64[ns, UTC], ``lat``, ``lon``, ``location_id``) in
    SNAP's order; with ``return_faults``, also each row's fault (a Series), ``""`` or one of :data:`FAULT_KINDS`.
    """
    check_int("n_users", n_users, minimum=1)
    check_int("seed", seed, minimum=0)
    check_int("days", days, minimum=1)
    if not isinstance(box, BoundingBox):
        raise ValueError(f"box must be a BoundingBox, got {type(box).__name__}")
    try:
        start_time = pd.Timestamp(start)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start must be a date like '2009-06-01', got {start!r}") from exc
    start_time = start_time.tz_localize("UTC") if start_time.tzinfo is None else start_time.tz_convert("UTC")
    if n_venues is None:
        n_venues = max(20, int(VENUES_PER_USER * n_users))
    check_int("n_venues", n_venues, minimum=1)
    rates = dict(teleport_rate=teleport_rate, repeat_burst_rate=repeat_burst_rate, outside_rate=outside_rate,
                 duplicate_rate=duplicate_rate)
    for name, value in rates.items():
        _check_rate(name, value)
    if teleport_rate + repeat_burst_rate + duplicate_rate + outside_rate >= 0.5:
        raise ValueError(f"the fault rates must add up to less than 0.5, got {rates}")
    if not isinstance(return_faults, bool):
        raise ValueError(f"return_faults must be True or False, got {return_faults!r}")

    rng_venues, rng_users, rng_times, rng_places, rng_faults, rng_ids = _rngs(seed, 6)
    users = _user_ids(n_users, seed)
    venues = _VenuePool(rng_venues, box, n_venues)

    # --- how many check-ins, and when (local time, then UTC)
    counts = np.clip(np.rint(rng_users.lognormal(2.62, 1.3, n_users)), 1, 40 * days).astype(np.int64)
    owner = np.repeat(np.arange(n_users), counts)
    span = days * rng_users.uniform(0.2, 1.0, n_users)  # active days per user
    first_day = rng_users.uniform(0.0, days - span)
    day = np.floor(first_day[owner] + rng_times.random(owner.size) * span[owner]).astype(np.int64)
    utc_offset_h = round(box.center[1] / 15.0)
    local_weekday = (start_time + pd.Timedelta(hours=utc_offset_h)).day_of_week
    weekend = (local_weekday + day) % 7 >= 5
    hour = np.where(weekend, _sample_bins(rng_times, _WEEKEND_HOURS, owner.size),
                    _sample_bins(rng_times, _WEEKDAY_HOURS, owner.size))
    local_seconds = day * 86_400 + hour * 3600 + rng_times.integers(0, 3600, owner.size)
    seconds = local_seconds - utc_offset_h * 3600  # since start, UTC
    order = np.lexsort((seconds, owner))
    seconds = seconds[order]
    hour, weekend = hour[order], weekend[order]

    # --- where: work area on weekday working hours, favourites, home area, city-wide
    home = rng_users.integers(0, venues.n_hoods, n_users)
    work = np.where(rng_users.random(n_users) < 0.6, rng_users.integers(0, venues.n_downtown, n_users),
                    rng_users.integers(0, venues.n_hoods, n_users))
    favourites = venues.in_hood(rng_users, np.concatenate([np.repeat(home, 2), np.repeat(work, 2)]))
    favourites = favourites.reshape(2, n_users, 2).transpose(1, 0, 2).reshape(n_users, FAVOURITES)
    working = ~weekend & (hour >= 9) & (hour < 18)
    context = np.where(working, _sample_bins(rng_places, _CONTEXT_WORKING_HOURS, owner.size),
                       _sample_bins(rng_places, _CONTEXT_LEISURE, owner.size))
    venue = np.empty(owner.size, dtype=np.int64)
    at_work, favourite, at_home, citywide = (np.flatnonzero(context == kind) for kind in range(4))
    venue[at_work] = venues.in_hood(rng_places, work[owner[at_work]])
    venue[favourite] = favourites[owner[favourite], rng_places.integers(0, FAVOURITES, favourite.size)]
    venue[at_home] = venues.in_hood(rng_places, home[owner[at_home]])
    venue[citywide] = venues.anywhere(rng_places, citywide.size)
    lat, lon = venues.lat[venue], venues.lon[venue]

    # --- plausible travel: consecutive check-ins at most 80 km/h and 5 minutes apart
    user_start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    same_user = np.r_[False, owner[1:] == owner[:-1]]
    gap = np.diff(seconds, prepend=0)
    distance_km = np.r_[0.0, haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])]
    needed = np.maximum(MIN_GAP_S, np.ceil(distance_km / MAX_PLAUSIBLE_SPEED_KMH * 3600)).astype(np.int64)
    gap = np.where(same_user, np.maximum(gap, needed), 0)
    cumulative = np.cumsum(gap)
    seconds = seconds[user_start][owner] + cumulative - cumulative[user_start][owner]  # every user has a row

    # --- venues' ids, and fresh ids for teleport and outside venues
    n_base = owner.size
    n_total = int(round(n_base / (1.0 - teleport_rate - repeat_burst_rate - duplicate_rate)))
    n_teleport = int(round(teleport_rate * n_total))
    n_repeat = int(round(repeat_burst_rate * n_total))
    n_duplicate = int(round(duplicate_rate * n_total))
    n_outside = min(int(round(outside_rate * n_total)), n_base)
    id_space = 10 * (n_venues + n_teleport + n_outside) + 1000
    ids = rng_ids.choice(id_space, size=n_venues + n_teleport + n_outside, replace=False).astype(np.int64)
    location_id = ids[:n_venues][venue]
    fresh_ids = tuple(np.split(ids[n_venues:], [n_teleport]))

    frame = _inject_faults(
        rng_faults, box, owner=owner, seconds=seconds, lat=lat, lon=lon, location_id=location_id,
        counts=dict(teleport=n_teleport, repeat=n_repeat, duplicate=n_duplicate, outside=n_outside), fresh_ids=fresh_ids,
    )
    time = pd.Series((start_time.value + frame["seconds"] * 10**9).view("datetime64[ns]")).dt.tz_localize("UTC")
    check_ins = pd.DataFrame({"user": users[frame["owner"]], "time": time, "lat": frame["lat"], "lon": frame["lon"],
                              "location_id": frame["location_id"]})
    if return_faults:
        labels = np.array(("",) + FAULT_KINDS, dtype=object)
        return check_ins, pd.Series(labels[frame["fault"]], name="fault", dtype=object)
    return check_ins


def _sample_bins(rng, weights, size):
    """Indices 0..len(weights)-1 drawn with probabilities proportional to ``weights``."""
    cdf = np.cumsum(weights) / np.sum(weights)
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(weights) - 1)


def _inject_faults(rng, box, *, owner, seconds, lat, lon, location_id, counts, fresh_ids):
    """Add the faulty rows and sort like SNAP (user ascending, newest first)."""
    n_base = owner.size
    next_gap = np.diff(seconds, append=seconds[-1] + 86_400)
    next_gap = np.where(np.r_[owner[1:] != owner[:-1], True], 86_400, next_gap)  # last of a user
    teleport_ids, outside_ids = fresh_ids
    fault = np.zeros(n_base, dtype=np.int8)  # 0 = clean, k = FAULT_KINDS[k - 1]
    code = {kind: np.int8(index + 1) for index, kind in enumerate(FAULT_KINDS)}

    # hosts: distinct clean rows after which teleports, bursts and duplicates are inserted
    burst_sizes = rng.integers(1, 4, size=counts["repeat"])
    burst_sizes = burst_sizes[: np.searchsorted(np.cumsum(burst_sizes), counts["repeat"]) + 1]
    if burst_sizes.size:
        burst_sizes[-1] -= burst_sizes.sum() - counts["repeat"]
        burst_sizes = burst_sizes[burst_sizes > 0]
    n_hosts = counts["teleport"] + burst_sizes.size + counts["duplicate"]
    chosen = rng.permutation(n_base)
    if n_hosts + counts["outside"] > n_base:
        raise ValueError("too few check-ins for the requested fault rates; raise n_users or lower the rates")
    teleport_host, burst_host, duplicate_host = np.split(chosen[:n_hosts], np.cumsum([counts["teleport"], burst_sizes.size]))
    outside_rows = chosen[n_hosts : n_hosts + counts["outside"]]

    # outside: moved 1-30 km beyond a random edge of the box
    lat, lon = lat.copy(), lon.copy()
    lat[outside_rows], lon[outside_rows] = _outside_points(rng, box, outside_rows.size)
    location_id = location_id.copy()
    location_id[outside_rows] = outside_ids
    fault[outside_rows] = code["outside"]

    # teleports: minutes later, half to a far city, half to the far corner of the box
    centre = box.center
    far = _FAR_CITIES[haversine_km(centre[0], centre[1], _FAR_CITIES[:, 0], _FAR_CITIES[:, 1]) > _MIN_FAR_KM]
    n_teleport = teleport_host.size
    to_city = rng.random(n_teleport) < 0.5
    city = far[rng.integers(0, len(far), n_teleport)]
    corner_lat = np.where(lat[teleport_host] < centre[0], box.lat_max, box.lat_min)
    corner_lon = np.where(lon[teleport_host] < centre[1], box.lon_max, box.lon_min)
    inward = rng.uniform(0.0, 0.02, (2, n_teleport))  # within ~2% of the box from the corner
    corner_lat = corner_lat - np.sign(corner_lat - centre[0]) * inward[0] * (box.lat_max - box.lat_min)
    corner_lon = corner_lon - np.sign(corner_lon - centre[1]) * inward[1] * (box.lon_max - box.lon_min)
    teleport_lat = np.where(to_city, city[:, 0] + rng.normal(0, 0.05, n_teleport), corner_lat)
    teleport_lon = np.where(to_city, city[:, 1] + rng.normal(0, 0.05, n_teleport), corner_lon)
    teleport_delay = np.minimum(rng.integers(60, 121, n_teleport), next_gap[teleport_host] // 2)

    # bursts: 1-3 repeats at the same venue, a few metres and 0.5-3 minutes apart
    burst_of = np.repeat(burst_host, burst_sizes)
    rank = np.arange(burst_of.size) - np.repeat(np.cumsum(burst_sizes) - burst_sizes, burst_sizes) + 1
    step = np.minimum(rng.integers(30, 181, burst_host.size), next_gap[burst_host] // (2 * (burst_sizes + 1)))
    repeat_lat, repeat_lon = _jitter_km(rng, lat[burst_of], lon[burst_of], 0.004, box)

    parts = {
        "owner": [owner, owner[teleport_host], owner[burst_of], owner[duplicate_host]],
        "seconds": [seconds, seconds[teleport_host] + teleport_delay, seconds[burst_of] + rank * np.repeat(step, burst_sizes),
                    seconds[duplicate_host]],
        "lat": [lat, teleport_lat, repeat_lat, lat[duplicate_host]],
        "lon": [lon, teleport_lon, repeat_lon, lon[duplicate_host]],
        "location_id": [location_id, teleport_ids, location_id[burst_of], location_id[duplicate_host]],
        "fault": [fault, np.full(n_teleport, code["teleport"]), np.full(burst_of.size, code["repeat"]),
                  np.full(duplicate_host.size, code["duplicate"])],
    }
    columns = {name: np.concatenate(values) for name, values in parts.items()}
    order = np.lexsort((-columns["seconds"], columns["owner"]))  # stable: a duplicate follows its host
    return {name: values[order] for name, values in columns.items()}


def _outside_points(rng, box, size):
    """Points 1-30 km outside a random edge of the box."""
    lat, lon = _in_box(rng, box, size)
    distance_deg = rng.uniform(1.0, 30.0, size) / _KM_PER_DEGREE
    edge = rng.integers(0, 4, size)
    lat = np.select([edge == 0, edge == 1], [box.lat_min - distance_deg, box.lat_max + distance_deg], lat)
    stretch = 1.0 / np.cos(np.radians(np.clip(lat, -89.0, 89.0)))
    lon = np.select([edge == 2, edge == 3], [box.lon_min - distance_deg * stretch, box.lon_max + distance_deg * stretch], lon)
    return np.clip(lat, -90.0, 90.0), ((lon + 180.0) % 360.0) - 180.0


def generate_edges(*, n_users=300, seed=0, mean_degree=10):
    """A symmetric friendship graph over the users of :func:`generate_checkins` (same ids for the same
    ``n_users`` and ``seed``), ``mean_degree`` friends per user on average (heavy-tailed).

    Returns ``user``, ``friend`` (int64): both directions of every friendship, no self loops or
    repeats, sorted by ``user`` then ``friend`` like SNAP.
    """
    check_int("n_users", n_users, minimum=2)
    check_int("seed", seed, minimum=0)
    if not (isinstance(mean_degree, (int, float)) and 0 < mean_degree < n_users):
        raise ValueError(f"mean_degree must be a number in (0, n_users={n_users}), got {mean_degree!r}")
    users = _user_ids(n_users, seed)
    (rng,) = _rngs([seed, 2], 1)
    sociability = rng.lognormal(0.0, 1.0, n_users)
    cdf = np.cumsum(sociability) / sociability.sum()
    n_pairs = int(round(n_users * mean_degree / 2 * 1.15))  # a margin for repeats and self loops
    a = np.minimum(np.searchsorted(cdf, rng.random(n_pairs)), n_users - 1)
    b = np.minimum(np.searchsorted(cdf, rng.random(n_pairs)), n_users - 1)
    keep = a != b
    pairs = np.unique(np.sort(np.stack([a[keep], b[keep]], axis=1), axis=1), axis=0)
    pairs = pairs[rng.permutation(len(pairs))[: int(round(n_users * mean_degree / 2))]]
    both = np.concatenate([pairs, pairs[:, ::-1]])
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    return pd.DataFrame({"user": users[both[:, 0]], "friend": users[both[:, 1]]})


# --------------------------------------------------------------------------- writing


def write_snap_checkins(check_ins, path):
    """Write raw check-ins (``time`` tz-aware, whole seconds) in their order in the exact SNAP text format,
    atomically; gzip-compressed when ``path`` ends with ``.gz``."""
    missing = [name for name in ("user", "time", "lat", "lon", "location_id") if name not in check_ins]
    if missing:
        raise ValueError(f"check_ins lacks the columns {missing}")
    time = check_ins["time"]
    if not isinstance(time.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"check_ins['time'] must be tz-aware (UTC), found {time.dtype}")
    seconds = pa.array(time.dt.tz_convert("UTC")).cast(pa.timestamp("s", tz="UTC"))  # safe: whole seconds
    if seconds.null_count:
        raise ValueError("check_ins['time'] has missing values")
    table = pa.table({
        "user": pa.array(check_ins["user"], pa.int64()), "time": _snap_time_strings(seconds.cast(pa.int64()).to_numpy()),
        "lat": pa.array(check_ins["lat"], pa.float64()), "lon": pa.array(check_ins["lon"], pa.float64()),
        "location_id": pa.array(check_ins["location_id"], pa.int64()),
    })
    _write_snap(table, path)


def _snap_time_strings(seconds):
    """``2010-10-12T00:21:28Z`` strings for seconds since the epoch, built digit by digit.

    About ten times faster than ``strftime``: the 20 bytes of each string are computed as
    a (n, 20) array of ASCII codes and handed to pyarrow without copying.
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    dates = (seconds // 86_400).astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    if seconds.size and (year.min() < 0 or year.max() > 9999):
        raise ValueError("times must lie in the years 0..9999 to be written in SNAP format")
    month = months.astype(np.int64) % 12 + 1
    day = (dates - months).astype(np.int64) + 1
    second_of_day = seconds % 86_400
    text = np.frombuffer(b"0000-00-00T00:00:00Z" * seconds.size, dtype=np.uint8).reshape(-1, 20).copy()
    fields = ((year, 0, 4), (month, 5, 2), (day, 8, 2), (second_of_day // 3600, 11, 2), (second_of_day // 60 % 60, 14, 2),
              (second_of_day % 60, 17, 2))
    for value, first, width in fields:
        for digit in range(width):
            text[:, first + width - 1 - digit] += (value // 10**digit % 10).astype(np.uint8)
    offsets = np.arange(0, 20 * seconds.size + 1, 20, dtype=np.int32)
    return pa.StringArray.from_buffers(seconds.size, pa.py_buffer(offsets), pa.py_buffer(text))


def write_snap_edges(edges, path):
    """Write ``user<TAB>friend`` lines of ``edges`` like SNAP's ``loc-gowalla_edges``, atomically (gzip for ``.gz``)."""
    missing = [name for name in ("user", "friend") if name not in edges]
    if missing:
        raise ValueError(f"edges lacks the columns {missing}")
    _write_snap(pa.table({"user": pa.array(edges["user"], pa.int64()), "friend": pa.array(edges["friend"], pa.int64())}), path)


GZIP_LEVEL = 1  # fast; the file is ~10% larger than at level 6


def _write_snap(table, path):
    options = pv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    with atomic_path(path) as temporary:
        if str(path).endswith(".gz"):
            sink = pa.BufferOutputStream()
            pv.write_csv(table, sink, write_options=options)
            compressed = pa.Codec("gzip", compression_level=GZIP_LEVEL).compress(sink.getvalue())
            with open(temporary, "wb") as handle:
                handle.write(compressed)
        else:
            pv.write_csv(table, temporary, write_options=options)
