"""A store in a read-only folder can be viewed and exported; writing to it gives a clear message."""

import contextlib
import io
import json
import multiprocessing as mp
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from dashboard import pipeline, store
from dashboard.cli import main
from dashboard.review import ReviewError, ReviewStore, reviews_path

NOBODY = 65534
TEXT = ("---\npublished: 2021-05-05\n---\nPolice seized 300 kilos of cocaine in Pichari on May 3, 2021.\n\n"
        "Police seized 80 kilos of cocaine in Tumbes on May 9, 2021.\n")


def _unprivileged(fn, *args):
    """Run ``fn`` where the folder permissions apply: as is for a normal user, as ``nobody`` under root."""
    if os.geteuid() != 0:
        return fn(*args)
    if "fork" not in mp.get_all_start_methods():
        pytest.skip("needs fork to drop root privileges")
    ctx = mp.get_context("fork")
    queue = ctx.Queue()

    def child():
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            queue.put(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the parent, which fails the test with it
            queue.put(("crashed", repr(exc)))

    proc = ctx.Process(target=child)
    proc.start()
    result = queue.get(timeout=120)
    proc.join(30)
    return result


def _use_read_only(db: str, out: str, article: str):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        codes = [main(["--store", db, "export", "-o", out]),
                 main(["--store", db, "ingest", article]),
                 main(["--store", db, "build", article])]
    try:
        ReviewStore(reviews_path(db)).set_status("x", "confirmed")
        review_error = ""
    except ReviewError as exc:
        review_error = str(exc)
    return codes, err.getvalue(), review_error


@pytest.fixture
def shared_tmp():
    # under /tmp with 0755 folders, so that the unprivileged user can reach it (pytest's tmp_path is 0700)
    folder = Path(tempfile.mkdtemp(prefix="incident-map-ro-"))
    folder.chmod(0o755)
    yield folder
    for sub in folder.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(folder)


def test_read_only_store_can_be_exported_but_not_written(shared_tmp):
    ro = shared_tmp / "ro"
    ro.mkdir()
    article = shared_tmp / "a.md"
    article.write_text(TEXT, encoding="utf-8")
    db = ro / "s.sqlite"
    pipeline.ingest_paths([article], db)
    frame = store.load(db)
    tumbes = frame[frame["quantity_kg"] == 80.0]["id"].item()
    ReviewStore(reviews_path(db)).set_status(tumbes, "rejected")  # a WAL-mode review file in the folder
    main(["--store", str(db), "export", "-o", str(shared_tmp / "warm.geojson")])  # imports done before dropping root
    out_dir = shared_tmp / "out"
    out_dir.mkdir()
    out_dir.chmod(0o777)
    for f in ro.iterdir():
        f.chmod(0o644)
    ro.chmod(0o555)
    before = sorted((f.name, f.read_bytes()) for f in ro.iterdir())

    codes, err, review_error = _unprivileged(_use_read_only, str(db), str(out_dir / "x.geojson"), str(article))

    assert codes == [0, 1, 1]
    (feat,) = json.loads((out_dir / "x.geojson").read_text())["features"]  # the rejected one is left out
    assert feat["properties"]["quantity_kg"] == 300.0
    assert "read-only" in err and "Traceback" not in err and "PermissionError" not in err
    assert "read-only" in review_error
    assert sorted((f.name, f.read_bytes()) for f in ro.iterdir()) == before  # nothing created or changed
    assert stat.S_IMODE(ro.stat().st_mode) == 0o555


def test_export_without_reviews_file_creates_none(tmp_path):
    db = tmp_path / "s.sqlite"
    article = tmp_path / "a.md"
    article.write_text(TEXT, encoding="utf-8")
    pipeline.ingest_paths([article], db)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert main(["--store", str(db), "export", "-o", str(tmp_path / "x.geojson")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names, "x.geojson"])
