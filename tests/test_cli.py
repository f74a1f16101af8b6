import json

import pytest

from dashboard.cli import main
from tests.conftest import SEEDS


def test_extract_to_stdout(capsys):
    assert main(["extract", str(SEEDS / "000_3559e8423d935106.txt")]) == 0
    fc = json.loads(capsys.readouterr().out)
    (feat,) = fc["features"]
    assert feat["properties"]["type"] == "ambush" and feat["properties"]["date"] == "2014-07-11"
    assert feat["properties"]["published"] == "2014-07-14"
    assert feat["properties"]["title"] == "Police Killed in Peru in Amazon Tri-border Ambush"


def test_extract_folder_to_file_without_store(tmp_path, monkeypatch):
    monkeypatch.setenv("INCIDENT_MAP_STORE", str(tmp_path / "never.sqlite"))
    out = tmp_path / "o.geojson"
    assert main(["extract", str(SEEDS), "-o", str(out)]) == 0
    assert len(json.loads(out.read_text())["features"]) == 11  # 9 events + 2 background statistics
    assert not (tmp_path / "never.sqlite").exists()


def test_extract_reports_bad_files_and_goes_on(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blob.txt").write_bytes(b"\x00\xff\x00binary")
    good = tmp_path / "good.txt"
    good.write_text("---\npublished: 2020-05-04\n---\nPolice seized 40 kilos of cocaine in Tumbes on May 2.\n")
    assert main(["extract", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "empty.txt" in captured.err and "blob.txt" in captured.err
    (feat,) = json.loads(captured.out)["features"]
    assert feat["properties"]["quantity_kg"] == 40 and feat["properties"]["departments"] == ["Tumbes"]


def test_extract_fails_when_nothing_readable(tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    assert main(["extract", str(tmp_path / "empty.txt")]) == 1
    assert "no article could be processed" in capsys.readouterr().err


def test_build_and_export(tmp_path, capsys):
    db = tmp_path / "s.sqlite"
    assert main(["--store", str(db), "build"]) == 0
    assert "5 articles, 11 incidents" in capsys.readouterr().out
    out = tmp_path / "amb.geojson"
    assert main(["--store", str(db), "export", "--type", "ambush", "--since", "2017-01-01", "-o", str(out)]) == 0
    feats = json.loads(out.read_text())["features"]
    assert sorted(f["properties"]["date"] for f in feats) == ["2017-03-18", "2017-07-21"]
    csv_out = tmp_path / "v.csv"
    assert main(["--store", str(db), "export", "--region", "Loreto", "--format", "csv", "-o", str(csv_out)]) == 0
    assert csv_out.read_text().count("\n") == 2  # header + the tri-border ambush


def test_export_bad_date_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--store", str(tmp_path / "s"), "export", "--since", "last year", "-o", "x"])
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_export_without_store(tmp_path, capsys):
    assert main(["--store", str(tmp_path / "none.sqlite"), "export", "-o", str(tmp_path / "x.geojson")]) == 1
    assert "incident-map build" in capsys.readouterr().err


def test_geocode(capsys):
    assert main(["geocode", "Huanta", "province"]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["id"] == "prov:0504" and first["geo_precision"] == "province"
    assert main(["geocode", "Atlantis"]) == 1


def test_ingest_reports_a_name_clash(tmp_path, capsys):
    for folder, place in (("x", "Pichari"), ("y", "Tumbes")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.txt").write_text(
            f"---\npublished: 2021-05-04\n---\nPolice seized 40 kilos of cocaine in {place} on May 2, 2021.\n")
    db = str(tmp_path / "s.sqlite")
    assert main(["--store", db, "ingest", str(tmp_path / "x")]) == 0
    assert main(["--store", db, "ingest", str(tmp_path / "y")]) == 0
    captured = capsys.readouterr()
    assert "stored as y/report.txt" in captured.err and "2 incidents" in captured.out.splitlines()[-1]


def test_help_names_the_default_store(capsys):
    from dashboard.store import DEFAULT_STORE

    with pytest.raises(SystemExit):
        main(["--help"])
    out = "".join(capsys.readouterr().out.split())  # argparse wraps long words at hyphens
    assert str(DEFAULT_STORE) in out and "data/store" not in out
