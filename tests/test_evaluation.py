import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dashboard.cli import main
from dashboard.corpus import read_corpus
from dashboard.evaluation import GoldError, evaluate, load_gold, predict, score, to_json
from tests.conftest import ROOT

EVAL = ROOT / "tests" / "data" / "eval"


def gold(article="a.txt", type="seizure", date="2021-05-03", **kw):
    return {"article": article, "type": type, "date": date, "departments": ["CALLAO"], "zones": [], **kw}


def pred(article="a.txt", type="seizure", date="2021-05-03", **kw):
    return {"article": article, "type": type, "date": date, "date_end": kw.pop("date_end", date),
            "departments": ["Callao"], "zones": [], **kw}


def counts(result):
    return result.gold, result.tp, result.fp


# ------------------------------------------------------------------------------------------ matching rules


def test_a_matching_prediction_is_a_true_positive():
    r = score([gold()], [pred()])
    assert counts(r) == (1, 1, 0) and r.precision == r.recall == r.f1 == 1.0
    assert r.misses == [] and r.extras == []


def test_wrong_type_is_a_miss_and_an_extra():
    r = score([gold(type="seizure", id="g1")], [pred(type="ambush")])
    assert counts(r) == (1, 0, 1) and r.f1 == 0.0
    assert [(m.article, m.gold_id, m.type) for m in r.misses] == [("a", "g1", "seizure")]
    assert [(e.article, e.type) for e in r.extras] == [("a", "ambush")]


def test_alt_type_counts_only_when_no_prediction_has_the_coded_type():
    g = gold(type="seizure", alt_types=["arrest"], quantity_kg=100)
    # only the alternative type predicted: it is the match
    assert counts(score([g], [pred(type="arrest")])) == (1, 1, 0)
    # the coded type is preferred even when the alternative comes first: the seizure (with its quantity) matched,
    # so the quantity is checked on it, and the arrest record of the same raid is excused
    r = score([g], [pred(type="arrest", count=3), pred(type="seizure", quantity_kg=100)])
    assert counts(r) == (1, 1, 0) and (r.fields_right, r.fields_total) == (1, 1)
    assert r.excused == 1


def test_further_alt_type_predictions_of_the_same_event_are_excused_but_not_others():
    g = gold(type="seizure", alt_types=["arrest"])
    same_event = [pred(type="seizure"), pred(type="arrest"), pred(type="arrest", date="2021-05-04")]
    assert counts(score([g], same_event)) == (1, 1, 0)
    # an arrest a month later, or on another article, is another event: a false positive
    r = score([g, gold(article="b.txt", type="ambush")],
              [pred(type="seizure"), pred(type="arrest", date="2021-06-10"), pred(article="b.txt", type="arrest")],
              articles=["a.txt", "b.txt"])
    assert r.fp == 2
    # a type outside alt_types is never excused
    assert score([g], [pred(type="seizure"), pred(type="lab_dismantling")]).fp == 1


def test_day_dates_overlap_within_one_day():
    g = gold(date="2021-05-03")
    assert score([g], [pred(date="2021-05-04")]).tp == 1
    assert score([g], [pred(date="2021-05-02")]).tp == 1
    assert score([g], [pred(date="2021-05-05")]).tp == 0
    assert score([g], [pred(date="2021-05-01")]).tp == 0
    # a predicted range ending the day before the gold day overlaps
    assert score([g], [pred(date="2021-04-20", date_end="2021-05-02")]).tp == 1
    # a gold range: any overlap with it widened by a day
    ranged = gold(date="2021-05-03", date_end="2021-05-10")
    assert score([ranged], [pred(date="2021-05-11")]).tp == 1
    assert score([ranged], [pred(date="2021-05-12")]).tp == 0


def test_month_precision_widens_by_31_days():
    g = gold(date="2022-09-01", date_end="2022-09-30", date_precision="month")
    assert score([g], [pred(date="2022-10-31")]).tp == 1  # 30 September + 31 days
    assert score([g], [pred(date="2022-11-01")]).tp == 0
    assert score([g], [pred(date="2022-08-01")]).tp == 1  # 1 September - 31 days
    assert score([g], [pred(date="2022-07-31")]).tp == 0
    # without month precision the same range allows one day only
    assert score([{**g, "date_precision": None}], [pred(date="2022-10-02")]).tp == 0


def test_null_gold_date_accepts_any_date_but_a_dated_gold_needs_a_predicted_date():
    assert score([gold(date=None)], [pred(date="1999-01-01")]).tp == 1
    assert score([gold(date=None)], [pred(date=None)]).tp == 1
    assert score([gold(date="2021-05-03")], [pred(date=None)]).tp == 0


def test_place_matches_on_a_shared_department_or_zone():
    g = {**gold(), "departments": ["CUSCO"], "zones": ["VRAEM"]}
    assert score([g], [{**pred(), "departments": ["Ayacucho"], "zones": ["VRAEM"]}]).tp == 1  # zone shared
    assert score([g], [{**pred(), "departments": ["Cusco"], "zones": []}]).tp == 1  # department shared
    assert score([g], [{**pred(), "departments": ["Ayacucho"], "zones": []}]).tp == 0
    # a gold entry with no department and no zone has no place check
    anywhere = {**gold(), "departments": [], "zones": []}
    assert score([anywhere], [{**pred(), "departments": ["Puno"]}]).tp == 1


def test_place_names_compare_without_accents_case_or_hyphens():
    g = {**gold(), "departments": ["JUNIN", "SAN MARTIN"], "zones": []}
    assert score([g], [{**pred(), "departments": ["Junín"]}]).tp == 1
    assert score([g], [{**pred(), "departments": ["san-martín"]}]).tp == 1
    z = {**gold(), "departments": [], "zones": ["Alto Huallaga"]}
    assert score([z], [{**pred(), "departments": ["Huánuco"], "zones": ["ALTO-HUALLAGA"]}]).tp == 1


def test_background_predictions_are_left_out():
    r = score([gold()], [pred(background=True)])
    assert counts(r) == (1, 0, 0)  # neither a match nor a false positive
    # background gold entries are not required either
    assert score([gold(background=True)], []).gold == 0


def test_predictions_on_articles_without_gold_entries():
    g = [gold(article="a.txt")]
    preds = [pred(article="a.txt"), pred(article="quiet.txt"), pred(article="elsewhere.txt")]
    # every evaluated article counts: the prediction on the no-incident article is a false positive, the one on an
    # article outside the evaluation is left out
    r = score(g, preds, articles=["a.txt", "quiet.txt"])
    assert counts(r) == (1, 1, 1) and [e.article for e in r.extras] == ["quiet"]
    # without the list of articles only those named in the gold are scored
    assert counts(score(g, preds)) == (1, 1, 0)


def test_gold_articles_not_evaluated_are_reported_and_missed():
    r = score([gold(article="gone.txt")], [], articles=["a.txt"])
    assert r.unknown_articles == ["gone"] and r.fn == 1


def test_article_names_compare_by_stem():
    assert score([gold(article="x.txt")], [pred(article="folder/x.txt")]).tp == 1
    assert score([gold(article="x")], [pred(article="x.md")]).tp == 1
    assert score([gold(article="x.txt")], [pred(article="y.txt")]).tp == 0


def test_optional_and_other_entries_are_neither_required_nor_penalised():
    entries = [gold(), gold(type="arrest", date="2019-01-01", optional=True),
               gold(type="other", date="2021-05-03", alt_types=["ambush"])]
    preds = [pred(), pred(type="arrest", date="2019-01-01"), pred(type="ambush")]
    r = score(entries, preds)
    assert counts(r) == (1, 1, 0) and r.f1 == 1.0 and r.excused == 2
    # nothing predicted for them: no miss either
    assert score(entries, [pred()]).misses == []
    # one prediction is excused per optional entry: a second copy is a false positive
    twice = [pred(), pred(type="arrest", date="2019-01-01"), pred(type="arrest", date="2019-01-01")]
    assert score(entries, twice).fp == 1


def test_each_prediction_matches_one_gold_incident():
    r = score([gold(id="first"), gold(id="second")], [pred()])
    assert counts(r) == (2, 1, 0) and [m.gold_id for m in r.misses] == ["second"]
    assert r.precision == 1.0 and r.recall == 0.5 and abs(r.f1 - 2 / 3) < 1e-12


def test_fields_are_right_within_two_percent():
    g = gold(quantity_kg=1000, killed=3, wounded=None)
    assert (score([g], [pred(quantity_kg=1020, killed=3)]).fields_right, score([g], [pred()]).fields_total) == (2, 2)
    r = score([g], [pred(quantity_kg=1030, killed=2)])
    assert (r.fields_right, r.fields_total) == (0, 2)
    assert {(f.field, f.gold, f.got) for f in r.field_errors} == {("quantity_kg", 1000, 1030), ("killed", 3, 2)}
    # a number the extractor left out is wrong; a gold null is not scored
    r = score([g], [pred(quantity_kg=None, killed=3, wounded=5)])
    assert (r.fields_right, r.fields_total) == (1, 2) and r.field_errors[0].got is None
    # a gold zero must be predicted as zero
    assert score([gold(killed=0)], [pred(killed=0)]).fields_right == 1
    assert score([gold(killed=0)], [pred(killed=1)]).fields_right == 0
    # no gold numbers at all: field accuracy is vacuous, 1
    assert score([gold()], [pred()]).field_accuracy == 1.0


def test_report_lines_name_the_article_and_escape_control_characters():
    r = score([gold(id="g1", article="a.txt")],
              [pred(type="ambush", evidence="Gunmen \x1b[31mattacked\x1b[0m", place="Lima\u202e")])
    lines = r.report_lines()
    assert lines[0].startswith("MISS a [g1]: seizure 2021-05-03")
    assert lines[1].startswith("EXTRA a: ambush 2021-05-03")
    assert "\x1b" not in lines[1] and "\u202e" not in lines[1] and "\\u001b[31m" in lines[1]
    assert lines[-1].startswith("gold=1 pred=1 tp=0 precision=0.00 recall=0.00 F1=0.00 fields=0/0")


def test_json_escapes_terminal_controls_and_reads_back_the_same_text():
    evidence = "Gunmen\x9b31m attacked\u202e a patrol \U000e0041 near\x1b[2J the river in Junín"
    text = to_json(score([], [pred(evidence=evidence)], articles=["a.txt"]))
    assert not any(ch in text for ch in "\x9b\u202e\U000e0041\x1b")
    assert "Junín" in text  # letters stay readable
    assert json.loads(text)["extras"][0]["evidence"] == evidence


# ------------------------------------------------------------------------------------------ gold files


@pytest.mark.parametrize(("text", "message"), [
    ("article: a.txt\ntype: seizure\n", "YAML list"),
    ("", "empty"),
    ("- [a, b]\n", "entry 1"),
    ("- article: a.txt\n  type: seizure\n- article: b.txt\n  id: b-1\n", "entry 2 (id b-1): missing 'type'"),
    ("- article: a.txt\n  type: seizure\n  date: 2021-13-40\n", "is not a date"),
    ("- article: a.txt\n  type: seizure\n  date: last week\n", "is not a date"),
    ("- article: a.txt\n  type: seizure\n  quantity_kg: 1,200\n", "quantity_kg '1,200' is not a number"),
    ("- article: a.txt\n  type: seizure\n  killed: true\n", "is not a number"),
    ("- article: a.txt\n  type: seizure\n  departments: {CUSCO: 1}\n", "departments must be a list"),
    ("- article: a.txt\n  type: [seizure\n", "not valid YAML"),
])
def test_bad_gold_files_are_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "gold.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GoldError, match="gold.yaml") as err:
        load_gold(path)
    assert message in str(err.value)


def test_gold_file_round_trip(tmp_path):
    path = tmp_path / "gold.yaml"
    path.write_text("- article: a.txt\n  id: a-1\n  type: seizure\n  date: 2021-05-03\n  departments: [CALLAO]\n"
                    "  quantity_kg: 7.5\n- article: a.txt\n  type: arrest\n  date: null\n  optional: true\n",
                    encoding="utf-8")
    entries = load_gold(path)
    assert [e["type"] for e in entries] == ["seizure", "arrest"]
    r = score(entries, [pred(quantity_kg=7.5)])
    assert counts(r) == (1, 1, 0) and r.fields_right == 1


def test_missing_gold_file_is_an_error(tmp_path):
    with pytest.raises(GoldError, match="cannot read"):
        load_gold(tmp_path / "nope.yaml")


# ------------------------------------------------------------------------------------------ the command


def _scored_in(path: Path) -> int:
    """Gold incidents that must be found, counted from the YAML itself (the format's header says which)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return sum(1 for g in entries if not g.get("background") and not g.get("optional") and g["type"] != "other")


def test_evaluate_command_on_own_labelled_articles(capsys):
    # Articles written for this project (a9 has no incident); gold hand-coded in gold.yaml.
    assert main(["evaluate", str(EVAL), str(EVAL / "gold.yaml"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["gold"] == _scored_in(EVAL / "gold.yaml") == 10
    assert result["articles"] == 9
    assert result["f1"] >= 0.85 and result["field_accuracy"] >= 0.9, result


def test_evaluate_command_lists_misses_extras_and_fields_and_honours_min_f1(tmp_path, capsys):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "raid.txt").write_text(
        "---\npublished: 2020-05-04\n---\nPolice seized 40 kilos of cocaine in Tumbes on May 2.\n", encoding="utf-8")
    (articles / "quiet.txt").write_text(
        "---\npublished: 2020-05-04\n---\nPolice seized 12 kilos of cocaine in Puno on May 1.\n", encoding="utf-8")
    (articles / "empty.txt").write_text("", encoding="utf-8")
    g = tmp_path / "gold.yaml"
    g.write_text("- article: raid.txt\n  id: r-1\n  type: seizure\n  date: 2020-05-02\n  departments: [TUMBES]\n"
                 "  quantity_kg: 45\n- article: raid.txt\n  id: r-2\n  type: ambush\n  date: 2020-05-02\n"
                 "  departments: [TUMBES]\n", encoding="utf-8")
    # quiet.txt has no gold entry: its seizure is a false positive; the ambush is missed; 40 kg is not 45 kg
    assert main(["evaluate", str(articles), str(g), "--min-f1", "0.9"]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "MISS raid [r-2]: ambush 2020-05-02" in lines
    assert "FIELD raid [r-1]: seizure quantity_kg gold=45 got=40" in lines
    assert any(line.startswith("EXTRA quiet: seizure 2020-05-01") for line in lines)
    assert lines[-1].startswith("gold=2 pred=2 tp=1 precision=0.50 recall=0.50 F1=0.50 fields=0/1")
    assert "empty.txt" in captured.err and "below --min-f1 0.9" in captured.err
    assert main(["evaluate", str(articles), str(g), "--quiet", "--min-f1", "0.5"]) == 0
    assert capsys.readouterr().out.splitlines() == [lines[-1]]


def test_evaluate_command_refuses_a_bad_gold_file_and_threshold(tmp_path, capsys):
    g = tmp_path / "gold.yaml"
    g.write_text("- article: a1.txt\n", encoding="utf-8")
    assert main(["evaluate", str(EVAL), str(g)]) == 1
    assert "missing 'type'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", str(EVAL), str(EVAL / "gold.yaml"), "--min-f1", "85"])


def test_predictions_are_those_of_the_extract_command(tmp_path):
    out = tmp_path / "x.geojson"
    assert main(["extract", str(EVAL), "-o", str(out)]) == 0
    exported = [f["properties"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]]
    articles, _ = read_corpus([EVAL])
    mine = predict(articles)
    keys = ("id", "article", "type", "date", "date_end", "departments", "zones", "killed", "wounded", "quantity_kg",
            "count", "background")
    assert [[p.get(k) for k in keys] for p in mine] == [[p.get(k) for k in keys] for p in exported]


# ------------------------------------------------------------------------------------------ development sets


def _shared_eval() -> Path | None:
    # The development sets live beside the repository (<repo>/../shared/eval); a worktree may point at them.
    for candidate in (os.environ.get("INCIDENT_MAP_SHARED_EVAL"), ROOT.parent / "shared" / "eval"):
        if candidate and (Path(candidate) / "score_incidents.py").is_file():
            return Path(candidate)
    return None


SHARED = _shared_eval()


@pytest.mark.skipif(SHARED is None, reason="the development sets (<repo>/../shared/eval) are not beside the repo")
def test_evaluation_runs_on_the_english_development_set():
    gold_path = SHARED / "en" / "gold.yaml"
    result = evaluate(SHARED / "en" / "articles", gold_path)
    assert result.gold == _scored_in(gold_path)
    assert result.articles == len(list((SHARED / "en" / "articles").glob("*.txt")))
    assert result.unknown_articles == [] and result.skipped == []
    assert 0.0 <= result.f1 <= 1.0 and result.tp + len(result.misses) == result.gold


@pytest.mark.skipif(SHARED is None, reason="the development sets (<repo>/../shared/eval) are not beside the repo")
@pytest.mark.parametrize("lang", ["en", "es"])
def test_figures_agree_with_the_development_sets_scorer(tmp_path, lang):
    # The same predictions scored by score_incidents.py (run where it lives, never copied) and by the library.
    articles_dir = SHARED / lang / "articles"
    articles, _ = read_corpus([articles_dir])
    preds = predict(articles)
    fc = {"type": "FeatureCollection",
          "features": [{"type": "Feature", "geometry": None, "properties": p} for p in preds]}
    geojson = tmp_path / "pred.geojson"
    geojson.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, str(SHARED / "score_incidents.py"), str(SHARED / lang / "gold.yaml"),
                          str(geojson), "--articles", str(articles_dir)], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    result = score(load_gold(SHARED / lang / "gold.yaml"), preds, articles=[a.name for a in articles])
    assert result.summary().startswith(out[-1] + " ")
    assert len(result.misses) == sum(line.startswith("MISS ") for line in out)
    assert len(result.extras) == sum(line.startswith("EXTRA ") for line in out)
    assert len(result.field_errors) == sum(line.startswith("FIELD ") for line in out)
