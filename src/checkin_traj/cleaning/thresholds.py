"""The cleaning thresholds as one value: :class:`Thresholds`, with its defaults written once.

Every step of :mod:`checkin_traj.cleaning` takes a :class:`Thresholds` (or keyword
overrides of its fields, e.g. ``clean(check_ins, max_speed_kmh=250.0)``). A step is
switched off by setting its threshold to ``None``; that is the only spelling of "off",
outside and inside the compiled pass.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..checks import check_positive
from ..geo import NYC_BOX, BoundingBox

NUMERIC_THRESHOLDS = ("max_speed_kmh", "stay_radius_m", "min_stay_minutes")


@dataclass(frozen=True)
class Thresholds:
    """The five settings of the cleaning steps (every number finite and positive, or ``None``: the step off).

    ``max_speed_kmh``: fastest plausible travel from the previous kept check-in, km/h (500 km/h, the default of
    scikit-mobility's filter: faster than any train or car in the region). A check-in within ``stay_radius_m`` metres
    of the previous kept one (edge included) and less than ``min_stay_minutes`` after it is a repeat, not a new visit.
    ``box``: the city box, degrees (edges included). ``polygon`` (shapely polygon, GeoSeries or GeoDataFrame) replaces
    ``box`` (a GeoSeries/GeoDataFrame in another CRS is reprojected to EPSG:4326; a bare shapely polygon is taken as
    lon/lat degrees).
    """

    max_speed_kmh: float | None = 500.0
    stay_radius_m: float | None = 50.0
    min_stay_minutes: float | None = 30.0
    box: BoundingBox = NYC_BOX
    polygon: object = field(default=None, compare=False)
    geometry: object = field(default=None, init=False, repr=False)  # the polygon as one shapely geometry

    def __post_init__(self):
        for name in NUMERIC_THRESHOLDS:
            value = getattr(self, name)
            if value is not None:
                try:
                    value = check_positive(name, value)
                except ValueError as exc:
                    raise ValueError(f"{exc}; use None to switch the step off") from None
                object.__setattr__(self, name, value)
        if not isinstance(self.box, BoundingBox):
            raise ValueError(f"box must be a checkin_traj.geo.BoundingBox, got {type(self.box).__name__}")
        object.__setattr__(self, "geometry", _check_polygon(self.polygon))

    @classmethod
    def of(cls, thresholds=None, **overrides) -> "Thresholds":
        """``thresholds`` (default: :class:`Thresholds()`) with some fields replaced.

        ``TypeError`` names an unknown field (a misspelt keyword is never ignored).
        """
        if thresholds is None:
            thresholds = cls()
        elif not isinstance(thresholds, cls):
            raise ValueError(f"thresholds must be a Thresholds, got {type(thresholds).__name__}")
        names = [item.name for item in dataclasses.fields(cls) if item.init]
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise TypeError(f"unknown threshold(s) {unknown}; the thresholds are {names}")
        return dataclasses.replace(thresholds, **overrides) if overrides else thresholds

    @property
    def speed_on(self) -> bool:
        """Whether the speed step runs."""
        return self.max_speed_kmh is not None

    @property
    def stay_on(self) -> bool:
        """Whether the stay step runs (it needs both of its thresholds)."""
        return self.stay_radius_m is not None and self.min_stay_minutes is not None

    def to_dict(self) -> dict:
        """JSON-able form (for ``provenance.json``); a polygon is given as its WKT."""
        return {
            "max_speed_kmh": self.max_speed_kmh,
            "stay_radius_m": self.stay_radius_m,
            "min_stay_minutes": self.min_stay_minutes,
            "box": dataclasses.asdict(self.box),
            "polygon": None if self.geometry is None else self.geometry.wkt,
        }


def _check_polygon(polygon):
    """The polygon as one shapely geometry in EPSG:4326 (lon, lat), or None."""
    if polygon is None:
        return None
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    if isinstance(polygon, (gpd.GeoSeries, gpd.GeoDataFrame)):
        if len(polygon) == 0:
            raise ValueError("polygon is an empty GeoSeries/GeoDataFrame")
        if polygon.crs is not None and polygon.crs.to_epsg() != 4326:
            polygon = polygon.to_crs(epsg=4326)
        geometry = polygon.geometry.union_all()
    elif isinstance(polygon, BaseGeometry):
        geometry = polygon
    else:
        raise ValueError(f"polygon must be a shapely polygon, a GeoSeries or a GeoDataFrame, got {type(polygon).__name__}")
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise ValueError(f"polygon must be a non-empty (multi)polygon, got a {geometry.geom_type}")
    return geometry
