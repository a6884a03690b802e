"""Distances on the sphere and the city bounding box."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), km


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between points given in degrees (WGS84); arrays broadcast against each other."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    half_dlat = (lat2 - lat1) / 2.0
    half_dlon = (lon2 - lon1) / 2.0
    a = np.sin(half_dlat) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(half_dlon) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class BoundingBox:
    """A latitude/longitude box in degrees (WGS84), edges included.

    Raises ``ValueError``: when the box is empty, inverted or outside valid coordinates.
    """

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def __post_init__(self):
        from .checks import check_real

        for name in ("lat_min", "lat_max", "lon_min", "lon_max"):
            value = check_real(f"BoundingBox.{name} (degrees)", getattr(self, name))
            object.__setattr__(self, name, value)
        for low, high, limit in (("lat_min", "lat_max", 90.0), ("lon_min", "lon_max", 180.0)):
            lo, hi = getattr(self, low), getattr(self, high)
            if not (-limit <= lo <= limit and -limit <= hi <= limit):
                raise ValueError(f"BoundingBox {low}={lo}, {high}={hi} must lie within ±{limit} degrees")
            if lo >= hi:
                raise ValueError(f"BoundingBox is empty or inverted: {low}={lo} must be smaller than {high}={hi}")

    def contains(self, lat, lon):
        """Boolean mask of the points inside the box (edges included)."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        return (lat >= self.lat_min) & (lat <= self.lat_max) & (lon >= self.lon_min) & (lon <= self.lon_max)

    @property
    def center(self):
        """(lat, lon) of the box's centre, degrees."""
        return ((self.lat_min + self.lat_max) / 2.0, (self.lon_min + self.lon_max) / 2.0)


#: The New York City box used by the original article.
NYC_BOX = BoundingBox(lat_min=40.4774, lat_max=40.9176, lon_min=-74.2591, lon_max=-73.7004)


@dataclass(frozen=True)
class City:
    """A city the book can be built for: its box, its local time zone and the name the chapters print.

    ``name``: how the chapters name it in titles, prose and captions; ``box``: check-ins outside it are dropped
    (chapter 01's box step); ``timezone``: IANA time zone of the hour-of-day and day-of-week features.
    """

    name: str
    box: BoundingBox
    timezone: str


#: City presets (chapter 01's ``CITY``): the article's New York City, the default, and
#: cities with many Gowalla check-ins. Boxes cover each city's urban core.
CITIES = {
    "new_york": City("New York City", NYC_BOX, "America/New_York"),
    "austin": City("Austin", BoundingBox(lat_min=30.10, lat_max=30.52, lon_min=-97.94, lon_max=-97.56), "America/Chicago"),
    "san_francisco": City(
        "San Francisco", BoundingBox(lat_min=37.70, lat_max=37.83, lon_min=-122.52, lon_max=-122.35), "America/Los_Angeles"
    ),
    "chicago": City("Chicago", BoundingBox(lat_min=41.64, lat_max=42.03, lon_min=-87.94, lon_max=-87.52), "America/Chicago"),
    "stockholm": City("Stockholm", BoundingBox(lat_min=59.23, lat_max=59.43, lon_min=17.85, lon_max=18.20), "Europe/Stockholm"),
}


def city(preset="new_york", *, box=None, timezone=None, name=None) -> City:
    """The city preset ``preset`` (a key of :data:`CITIES`), with any of its box, time zone or name replaced.

    Raises ``ValueError``: for an unknown preset (naming the presets) or a time zone that is not an
    IANA name.
    """
    if preset not in CITIES:
        raise ValueError(f"CITY must be one of {sorted(CITIES)}, got {preset!r}")
    chosen = CITIES[preset]
    if timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timezone must be an IANA name such as 'America/New_York', got {timezone!r}") from None
    return City(name=name or chosen.name, box=box or chosen.box, timezone=timezone or chosen.timezone)
