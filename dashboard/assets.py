"""Leaflet and its plugins from installed packages, so the map works with no internet at all.

folium loads Leaflet, jQuery, Bootstrap and its plugins from public CDNs. Here the map uses only Leaflet,
Leaflet.markercluster and jQuery (folium's popups use it), taken from the XStatic packages: copied into the app's
``static/`` folder for Streamlit to serve, or inlined into a standalone HTML export. No third-party JavaScript
lives in this repository.

The dashboard's own map (:func:`install_component`) is a folder Streamlit serves as a component: this project's
page and script (``dashboard/data/mapjs``), the same vendor files, and the basemap as a JSON file.
"""

from __future__ import annotations

import base64
import functools
import json
import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_cluster

#: file name under the vendor folder -> source file in an installed package
FILES: dict[str, Path] = {
    "leaflet.js": Path(xs_leaflet.BASE_DIR) / "leaflet.js",
    "jquery.min.js": Path(xs_jquery.BASE_DIR) / "jquery.min.js",  # folium builds popups with $(...)
    "leaflet.css": Path(xs_leaflet.BASE_DIR) / "leaflet.css",
    "leaflet.markercluster.js": Path(xs_cluster.BASE_DIR) / "leaflet.markercluster.js",
    "MarkerCluster.css": Path(xs_cluster.BASE_DIR) / "MarkerCluster.css",
    "MarkerCluster.Default.css": Path(xs_cluster.BASE_DIR) / "MarkerCluster.Default.css",
}
IMAGES = Path(xs_leaflet.BASE_DIR) / "images"
#: Where Streamlit serves ``static/vendor`` (``server.enableStaticServing``).
STREAMLIT_BASE = "/app/static/vendor"
#: The map component's own files (page, script, style), written for this project.
COMPONENT_SOURCE = Path(__file__).resolve().parent / "data" / "mapjs"
#: The vendor files the component page loads.
COMPONENT_VENDOR = ["leaflet.js", "leaflet.css", "leaflet.markercluster.js", "MarkerCluster.css"]


def install(static_dir: Path) -> Path:
    """Copy the vendor files into ``static_dir/vendor`` (once; later calls find them there)."""
    vendor = static_dir / "vendor"
    (vendor / "images").mkdir(parents=True, exist_ok=True)
    for name, src in FILES.items():
        dst = vendor / name
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    for img in IMAGES.iterdir():
        dst = vendor / "images" / img.name
        if not dst.exists():
            shutil.copyfile(img, dst)
    return vendor


def install_component(folder: Path, basemap: Mapping) -> Path:
    """Write the map component into ``folder``: its page and script, the vendor files, ``basemap.json``.

    Files are replaced atomically (written beside, then renamed), so a browser loading the page while another
    session installs never reads half a file.
    """
    (folder / "vendor" / "images").mkdir(parents=True, exist_ok=True)
    for src in COMPONENT_SOURCE.iterdir():
        _write(folder / src.name, src.read_bytes())
    for name in COMPONENT_VENDOR:
        _write(folder / "vendor" / name, FILES[name].read_bytes())
    for img in IMAGES.iterdir():
        _write(folder / "vendor" / "images" / img.name, img.read_bytes())
    _write(folder / "basemap.json", json.dumps(basemap, ensure_ascii=False, separators=(",", ":")).encode())
    return folder


def _write(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def urls(base: str = STREAMLIT_BASE) -> dict[str, str]:
    """URL of each vendor file under ``base``."""
    return {name: f"{base.rstrip('/')}/{name}" for name in FILES}


@functools.lru_cache(maxsize=1)
def _inline_css(name: str) -> str:
    css = FILES[name].read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        path = IMAGES / Path(match.group(1)).name
        if not path.exists():
            return match.group(0)
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        return f"url(data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()})"

    return re.sub(r"url\((?:images/)?([\w.-]+\.(?:png|svg))\)", data_uri, css)


def inline(html: str, base: str = STREAMLIT_BASE) -> str:
    """Replace ``<script src>`` and ``<link href>`` to the vendor files with their content (standalone HTML)."""
    for name, url in urls(base).items():
        if name.endswith(".js"):
            code = FILES[name].read_text(encoding="utf-8").replace("</script", "<\\/script")
            html = re.sub(rf'<script[^>]*src="{re.escape(url)}"[^>]*></script>',
                          lambda _m, c=code: f"<script>{c}</script>", html)
        else:
            css = _inline_css(name)
            html = re.sub(rf'<link[^>]*href="{re.escape(url)}"[^>]*/?>',
                          lambda _m, c=css: f"<style>{c}</style>", html)
    return html
