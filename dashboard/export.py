"""Exports: GeoJSON (RFC 7946), one GeoJSON per incident type (zip), CSV and GeoPackage.

Every format carries the same properties, in the order of :data:`dashboard.schema.PROPERTIES` followed by the
extra ones. Files are written to a temporary name and moved into place, so a failed export leaves no half file.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import mapping

from dashboard.escape import csv_cell
from dashboard.schema import EXTRA_PROPERTIES, LIST_COLUMNS, PROPERTIES, plain

COORD_DECIMALS = 6  # about 0.1 m: RFC 7946 advises against needless precision


def _properties(frame: gpd.GeoDataFrame) -> list[str]:
    return [c for c in PROPERTIES + EXTRA_PROPERTIES if c in frame.columns]


def to_feature_collection(frame: gpd.GeoDataFrame) -> dict:
    """A GeoJSON FeatureCollection dict: WGS84 lon/lat, no ``crs`` member, null geometry for unlocated incidents."""
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    cols = _properties(frame)
    features = []
    for rec, geom in zip(frame[cols].to_dict("records"), frame.geometry, strict=True):
        props = {c: plain(rec[c]) for c in cols}
        for c in ("killed", "wounded", "count", "evidence_start", "evidence_end", "source_count"):
            if props.get(c) is not None:
                props[c] = int(props[c])
        geometry = None
        if geom is not None and not geom.is_empty:
            if geom.geom_type != "Point":
                # RFC 7946: exterior rings counter-clockwise; coordinates at a sensible precision
                geom = shapely.orient_polygons(shapely.set_precision(geom, 10 ** -COORD_DECIMALS), exterior_cw=False)
            geometry = mapping(geom)
            geometry = json.loads(json.dumps(geometry, default=list))
            if geom.geom_type == "Point":
                geometry["coordinates"] = [round(geom.x, COORD_DECIMALS), round(geom.y, COORD_DECIMALS)]
        features.append({"type": "Feature", "id": props["id"], "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def geojson_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """The FeatureCollection as UTF-8 JSON bytes."""
    return json.dumps(to_feature_collection(frame), ensure_ascii=False).encode("utf-8")


def geojson_zip_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """A zip with one GeoJSON FeatureCollection per incident type (``ambush.geojson``, ...)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for kind, part in frame.groupby("type", sort=True):
            # a reviewed type is free text: keep the entry name a plain file name (no "../", no folders)
            zf.writestr(f"{_file_stem(kind)}.geojson", geojson_bytes(part))
    return buf.getvalue()


def _file_stem(kind: object) -> str:
    """A type key as a file name: letters, digits, ``_`` and ``-`` kept, anything else ``_``."""
    return re.sub(r"[^0-9A-Za-z_-]", "_", str(kind)) or "_"


def csv_bytes(frame: gpd.GeoDataFrame) -> bytes:
    """CSV: the properties, lists joined with ``"; "``, plus ``lon``/``lat`` (a representative point) and WKT.

    Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) start with a
    ``'``; numbers, negative coordinates included, stay numbers.
    """
    cols = _properties(frame)
    out = pd.DataFrame(frame[cols]).copy()
    _flatten(out)
    points = [g.representative_point() if g is not None and not g.is_empty else None for g in frame.geometry]
    out["lon"] = [round(p.x, COORD_DECIMALS) if p is not None else None for p in points]
    out["lat"] = [round(p.y, COORD_DECIMALS) if p is not None else None for p in points]
    out["geometry_wkt"] = [g.wkt if g is not None and not g.is_empty else "" for g in frame.geometry]
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(csv_cell)
    # CRLF line ends (RFC 4180) also make the writer quote a text cell holding a bare CR, which a reader would
    # otherwise take for the end of the row
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    """A GeoPackage layer ``incidents``; lists become ``"; "``-joined text (GeoPackage has no list type)."""
    cols = _properties(frame)
    out = gpd.GeoDataFrame(frame[cols].copy(), geometry=frame.geometry.values, crs=4326)
    _flatten(out)
    out.to_file(path, layer="incidents", driver="GPKG", geometry_type="Unknown")


def _flatten(out: pd.DataFrame) -> None:
    """Lists of names become ``"; "``-joined text and the sources JSON text: CSV and GeoPackage are flat."""
    for col in LIST_COLUMNS:
        if col in out:
            out[col] = out[col].map(lambda v: "; ".join(v or []))
    if "sources" in out:
        out["sources"] = out["sources"].map(lambda v: json.dumps(v or [], ensure_ascii=False))


FORMATS: dict[str, Callable[[gpd.GeoDataFrame], bytes]] = {
    "geojson": geojson_bytes, "csv": csv_bytes, "zip": geojson_zip_bytes,
}


def write(frame: gpd.GeoDataFrame, path: str | Path, fmt: str = "geojson") -> Path:
    """Write ``frame`` to ``path`` in ``fmt`` (geojson, csv, zip, gpkg) atomically."""
    path = Path(path)
    if fmt not in FORMATS and fmt != "gpkg":
        raise ValueError(f"unknown export format {fmt!r}; choose one of {sorted([*FORMATS, 'gpkg'])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if fmt == "gpkg":
            os.unlink(tmp)
            write_gpkg(frame, Path(tmp))
        else:
            Path(tmp).write_bytes(FORMATS[fmt](frame))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
