"""A pickled copy of the loaded gazetteer in the user's cache folder, so a command starts in a tenth of the time.

Building the :class:`~dashboard.gazetteer.Gazetteer` reads and repairs the boundary files and joins two thousand
towns to their districts: about half a second, which a one-article ingest from the command line would pay every
time. The built object is pickled once into the user's cache folder (``platformdirs.user_cache_path``, or
``$INCIDENT_MAP_CACHE_DIR``) under a name that hashes everything it was built from: the gazetteer's code, every
file of its data folders, the user's imported GeoNames places, and the versions of Python and of the libraries
whose objects it holds. Any change gives another name, so a stale copy is never read; old copies are removed.

A pickle runs code when it is read, so only a file that this user owns and that nobody else may write is read;
anything else (another owner, a damaged or truncated file) is ignored and the gazetteer is built from its data.
``INCIDENT_MAP_CACHE_DIR=off`` turns the cache off.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import platformdirs

#: Environment variable naming the cache folder (``off``: no cache).
CACHE_ENV = "INCIDENT_MAP_CACHE_DIR"
_PREFIX = "gazetteer-"


def cache_dir() -> Path | None:
    """The folder holding the pickled gazetteer, or None when the cache is off."""
    env = os.environ.get(CACHE_ENV)
    if env == "off":
        return None
    return Path(env).expanduser() if env else platformdirs.user_cache_path("incident-map")


def cache_key(data_dir: Path, user_file: Path | None) -> str:
    """A hash of what a gazetteer is built from (see the module notes)."""
    import numpy
    import shapely

    from dashboard import __version__

    h = hashlib.sha256()
    # the installed versions of geopandas and pandas, without importing them (the gazetteer's frames are read
    # only when used: see Gazetteer.__getstate__)
    versions = (__version__, sys.version, str(pickle.HIGHEST_PROTOCOL), shapely.__version__,
                metadata.version("geopandas"), metadata.version("pandas"), numpy.__version__,
                str(data_dir.resolve()))
    h.update("\0".join(versions).encode())
    files = [Path(__file__).resolve().parent / "gazetteer.py"]
    for folder in ("gazetteer", "boundaries"):
        files += sorted(p for p in (data_dir / folder).rglob("*") if p.is_file())
    if user_file is not None:
        files.append(user_file)
    hash_files(h, files)
    return h.hexdigest()[:32]


def hash_files(h, files: list[Path]) -> None:
    """Feed each file's path and content hash to ``h``.

    A missing or unreadable file (a folder in another user's home, which the gazetteer skips too) counts as such
    rather than failing.
    """
    for path in files:
        h.update(str(path).encode() + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except FileNotFoundError:
            h.update(b"missing")
        except OSError:
            h.update(b"unreadable")


def load_or_build(build: Callable[[], object], data_dir: Path, user_file: Path | None) -> object:
    """The gazetteer pickled under the current :func:`cache_key`, else ``build()`` (then pickled for next time)."""
    folder = cache_dir()
    if folder is None:
        return build()
    try:
        path = folder / f"{_PREFIX}{cache_key(data_dir, user_file)}.pickle"
    except OSError:
        return build()
    found = _read(path)
    if found is not None:
        return found
    gazetteer = build()
    _write(path, gazetteer)
    return gazetteer


def _trusted(path: Path) -> bool:
    """Whether ``path`` is a regular file of this user that no one else may write (POSIX; always on Windows)."""
    try:
        st = path.lstat()
    except OSError:
        return False
    if not path.is_file() or path.is_symlink():
        return False
    if os.name == "nt":
        return True
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _read(path: Path) -> object | None:
    if not _trusted(path):
        return None
    gc_was = gc.isenabled()
    gc.disable()  # tens of thousands of new objects, none of them garbage: collections would only cost time
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # noqa: BLE001 - a truncated or foreign file is only a missed cache: build instead
        return None
    finally:
        if gc_was:
            gc.enable()


def _write(path: Path, gazetteer: object) -> None:
    """Pickle atomically (a temporary file renamed into place) and remove the copies of other keys."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(gazetteer, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        for old in path.parent.glob(f"{_PREFIX}*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        pass  # a read-only or full cache folder: the next command builds the gazetteer again
