from datetime import date

import pytest

from dashboard.corpus import infer_publication_date, parse_article, read_article, read_corpus
from dashboard.errors import ArticleError


def test_insight_crime_dateline_title_byline(seed_articles):
    a = seed_articles["000"]
    assert a.title == "Police Killed in Peru in Amazon Tri-border Ambush"
    assert a.published == date(2014, 7, 14)
    assert not a.published_inferred
    assert a.byline == "James Bargent"
    assert a.outlet == "InSight Crime"


def test_dateline_with_topic_other_than_country(seed_articles):
    a = seed_articles["004"]
    assert a.published == date(2016, 9, 12)  # "COCAINE / 12 SEP 2016 BY DAVID GAGNE EN"
    assert a.byline == "David Gagne"


def test_boilerplate_removed_and_article_kept(seed_articles):
    a = seed_articles["000"]
    for furniture in ("DONATE", "Related Content", "Was this content helpful?", "Open Position", "share icon",
                      "SEE ALSO", "HomeNewsBrief", "14 JUL 2014"):
        assert furniture not in a.text
    assert a.text.startswith("Alleged drug traffickers have killed a major")
    assert "the attack may backfire" in a.text
    b = seed_articles["001"]
    assert "Byron Lima" not in b.text and "Investigations" not in b.text
    assert "negotiate drug prices" in b.text
    c = seed_articles["003"]
    assert "Pingback" not in c.text and "Read the Remainder" not in c.text
    assert "Europe and Asia." in c.text


def test_undated_seeds_get_inferred_dates(seed_articles):
    # 001 mentions "October 2016" and, as news, "March 18"/"March 19": published after March 19, 2017.
    a = seed_articles["001"]
    assert a.published_inferred and a.published.year == 2017 and a.published.month == 3
    # 003 gives no year; it leans on "Peru's presidential elections" (first round in early April) and the
    # exercise "From May 8 through May 13"; the corpus's other articles (2014-2017) point to 2016.
    b = seed_articles["003"]
    assert b.published_inferred and b.published == date(2016, 5, 13)
    assert "election" in b.published_note


def test_given_metadata_overrides_inference(tmp_path, seed_articles):
    text = (tmp_path / "a.txt")
    text.write_text("---\npublished: 2017-03-21\nurl: https://example.org/a\noutlet: InSight Crime\n---\n"
                    + seed_articles["001"].text, encoding="utf-8")
    a = read_article(text)
    assert a.published == date(2017, 3, 21) and not a.published_inferred
    assert a.url == "https://example.org/a" and a.outlet == "InSight Crime"
    assert not a.text.startswith("---")


def test_sidecar_metadata(write_article):
    path = write_article("b.txt", "Police seized 20 kilograms of cocaine in Pucallpa on Monday.\n")
    (path.parent / "b.meta.yaml").write_text("published: 2020-02-05\noutlet: Andina\n", encoding="utf-8")
    a = read_article(path)
    assert a.published == date(2020, 2, 5) and a.outlet == "Andina"


def test_plain_date_forms(write_article):
    a = read_article(write_article("c.txt", "A headline\n\nApril 19, 2012\n\nPolice seized drugs.\n"))
    assert a.published == date(2012, 4, 19) and a.title == "A headline"
    b = read_article(write_article("d.txt", "Title here\nPosted on April 25, 2019 by Jane Doe\n\nText body.\n"))
    assert b.published == date(2019, 4, 25) and b.byline == "Jane Doe"


def test_html_article(write_article):
    html = ("<html><head><title>Seizure in Callao</title><meta property='article:published_time' "
            "content='2021-06-02T10:00:00Z'><link rel='canonical' href='https://news.example/x'></head><body>"
            "<nav>Home | News</nav><script>var x = 1;</script><article><p>Police seized 2 tons of cocaine "
            "in Callao on June 1.</p></article><footer>Copyright</footer></body></html>")
    a = read_article(write_article("e.html", html))
    assert a.title == "Seizure in Callao" and a.published == date(2021, 6, 2)
    assert a.url == "https://news.example/x"
    assert "Police seized 2 tons" in a.text and "var x" not in a.text and "Copyright" not in a.text


def test_windows_1252_is_decoded(write_article):
    raw = "Police seized cocaine in Junín on 3 May 2019.\n".encode("cp1252")
    a = read_article(write_article("f.txt", raw))
    assert "Junín" in a.text


def test_utf16_with_bom(write_article):
    a = read_article(write_article("g.txt", "\ufeffAmbush in Pichari on 3 May 2019.\n".encode("utf-16")))
    assert "Pichari" in a.text


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"   \n\n", "empty"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
])
def test_bad_files_are_refused_with_their_name(write_article, content, message):
    path = write_article("bad.txt", content)
    with pytest.raises(ArticleError, match=f"bad.txt.*{message}"):
        read_article(path)


def test_malformed_front_matter(write_article):
    with pytest.raises(ArticleError, match="front matter"):
        read_article(write_article("h.md", "---\npublished: [2019\n---\nText\n"))


def test_corpus_reports_bad_files_and_reads_the_rest(write_article, tmp_path):
    write_article("good.txt", "Police seized 10 kilos of cocaine in Iquitos on 2 March 2020.\n")
    write_article("README.md", "# About this folder\n")  # a folder note, not an article
    write_article("empty.txt", "")
    write_article("binary.html", b"\x00\x01\x02binary")
    articles, errors = read_corpus([tmp_path, tmp_path / "missing.txt"])
    assert [a.name for a in articles] == ["good.txt"]
    assert sorted(e.path.rsplit("/", 1)[-1] for e in errors) == ["binary.html", "empty.txt", "missing.txt"]


def test_infer_rolls_yearless_dates_past_latest_dated_mention():
    text = "In October 2016, the state of emergency was renewed. On March 18, snipers attacked a convoy."
    d, note = infer_publication_date(text)
    assert d == date(2017, 3, 18)


def test_infer_gives_none_without_dates():
    assert infer_publication_date("Nothing dated here at all.") == (None, None)


def test_parse_article_bytes_too_large():
    with pytest.raises(ArticleError, match="larger than"):
        parse_article(b"a" * (21 * 1024 * 1024), "huge.txt")


# --- hostile metadata (issue #7) -------------------------------------------------------------------------------

def _alias_bomb() -> str:
    """Front matter whose nine levels of aliases would expand to 9**9 items."""
    lines = ["a: &a [" + ",".join(["boom"] * 9) + "]"]
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\nPolice seized cocaine in Tingo Maria on 2 May 2019.\n"


def test_yaml_alias_bomb_is_refused_quickly_and_the_other_files_still_go_in(write_article, tmp_path):
    import time

    write_article("bomb.md", _alias_bomb())
    write_article("good.txt", "Police seized 10 kilos of cocaine in Iquitos on 2 March 2020.\n")
    start = time.perf_counter()
    articles, errors = read_corpus([tmp_path])
    assert time.perf_counter() - start < 1.0
    assert [a.name for a in articles] == ["good.txt"]
    assert len(errors) == 1 and errors[0].path.endswith("bomb.md")
    assert errors[0].reason.startswith("bomb.md:") and "alias" in errors[0].reason


def test_alias_bomb_upload_is_refused():
    # The upload panel hands the bytes to parse_article, with the form's metadata.
    with pytest.raises(ArticleError, match="upload.md: front matter refused: .*alias"):
        parse_article(_alias_bomb().encode(), "upload.md", {"outlet": "Andina"})


@pytest.mark.parametrize("front", [
    "title: &t A title\nurl: https://example.org/x\n",  # an anchor alone
    "base: &b {outlet: Andina}\n<<: *b\n",  # a merge key needs an alias
])
def test_anchors_and_aliases_are_refused(write_article, front):
    with pytest.raises(ArticleError, match="anchor.md: .*alias"):
        read_article(write_article("anchor.md", f"---\n{front}---\nText of the article.\n"))


def test_alias_in_sidecar_is_refused_naming_the_article(write_article):
    path = write_article("s.txt", "Police seized cocaine in Callao on 4 June 2019.\n")
    (path.parent / "s.meta.yaml").write_text("x: &x [1, 2]\ntitle: *x\n", encoding="utf-8")
    with pytest.raises(ArticleError, match="s.txt: .*s.meta.yaml.*alias"):
        read_article(path)


def test_oversized_front_matter_is_refused(write_article):
    front = "---\n" + "".join(f"key{i}: {'v' * 60}\n" for i in range(400)) + "---\n"  # about 27 KB
    with pytest.raises(ArticleError, match="big.md: front matter is larger than"):
        read_article(write_article("big.md", front + "Text of the article.\n"))


def test_deeply_nested_front_matter_is_a_message_not_a_traceback(write_article):
    front = "---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\n"
    with pytest.raises(ArticleError, match="deep.md: .*nested"):
        read_article(write_article("deep.md", front + "Text of the article.\n"))


def test_oversized_sidecar_is_refused(write_article):
    path = write_article("t.txt", "Police seized cocaine in Callao on 4 June 2019.\n")
    (path.parent / "t.meta.json").write_text('{"title": "' + "x" * 20000 + '"}', encoding="utf-8")
    with pytest.raises(ArticleError, match="t.txt: metadata file t.meta.json is larger than"):
        read_article(path)


@pytest.mark.parametrize("front, field", [
    ("published: 2017-02-30", "published"),  # no 30 February
    ("date: 2019-13-01", "published"),
    ("title: [one, two]", "title"),
    ("title:\n  text: a mapping", "title"),
    ("outlet: {name: Andina}", "outlet"),
    ("url: [https://example.org]", "url"),
    ("language: 12", "language"),
    ("language: [en]", "language"),
    pytest.param("title: " + "x" * 2001, "title", id="title-too-long"),
    ("author: true", "author"),
])
def test_bad_metadata_values_refuse_that_file_with_a_message(write_article, tmp_path, front, field):
    write_article("bad.md", f"---\n{front}\n---\nPolice seized cocaine in Callao on 4 June 2019.\n")
    write_article("good.txt", "Police seized 10 kilos of cocaine in Iquitos on 2 March 2020.\n")
    articles, errors = read_corpus([tmp_path])
    assert [a.name for a in articles] == ["good.txt"]
    assert len(errors) == 1 and errors[0].path.endswith("bad.md")
    assert errors[0].reason.startswith(f"bad.md: {field}")


def test_bad_sidecar_json_value_is_refused(write_article):
    path = write_article("j.txt", "Police seized cocaine in Callao on 4 June 2019.\n")
    (path.parent / "j.meta.json").write_text('{"title": {"nested": ["x"]}}', encoding="utf-8")
    with pytest.raises(ArticleError, match="j.txt: title"):
        read_article(path)


def test_given_metadata_is_checked_too():
    with pytest.raises(ArticleError, match="u.txt: url"):
        parse_article(b"Police seized cocaine in Callao.\n", "u.txt", {"url": "https://x.org/" + "a" * 3000})


def test_metadata_values_are_kept_as_text(write_article):
    a = read_article(write_article("k.md", "---\ntitle: 1984\nlanguage: ES\noutlet: Andina\n"
                                           "tags: [coca, vraem]\nextra: {nested: ignored}\n---\nBody text here.\n"))
    assert a.title == "1984" and a.language == "es" and a.outlet == "Andina"
    assert a.warnings == ()
    assert "tags" not in a.meta and "extra" not in a.meta  # keys the project does not read are ignored


def test_implausible_dates_are_kept_and_flagged(write_article):
    from datetime import timedelta

    old = read_article(write_article("old.md", "---\npublished: 1975-05-01\n---\nBody text here.\n"))
    assert old.published == date(1975, 5, 1) and not old.published_inferred
    assert len(old.warnings) == 1 and "1980" in old.warnings[0]
    later = date.today() + timedelta(days=3)
    future = read_article(write_article("future.md", f"---\npublished: {later.isoformat()}\n---\nBody text.\n"))
    assert future.published == later and len(future.warnings) == 1 and "future" in future.warnings[0]
    fine = read_article(write_article("fine.md", "---\npublished: 2019-05-01\n---\nBody text here.\n"))
    assert fine.warnings == ()


@pytest.mark.parametrize("front", ["url: javascript:alert(1)", "url: data:text/html,x", "url: ftp://example.org/a"])
def test_a_url_that_is_no_web_address_is_dropped_with_a_warning_and_the_article_kept(write_article, front):
    a = read_article(write_article("u.md", f"---\n{front}\n---\nPolice seized cocaine in Callao on 4 June 2019.\n"))
    assert a.url is None and any("not a web address" in w for w in a.warnings)
    b = parse_article(b"Police seized cocaine in Callao on 4 June 2019.\n", "form.txt", {"url": "javascript:x()"})
    assert b.url is None and b.warnings


def test_bad_html_head_values_are_dropped_with_a_warning(write_article):
    html = ("<html><head><title>Seizure</title><meta property='og:url' content='javascript:alert(1)'>"
            "<meta property='article:published_time' content='soon'></head><body><p>Police seized 2 tons of "
            "cocaine in Callao on 3 June 2021.</p></body></html>")
    a = read_article(write_article("w.html", html))
    assert a.url is None and a.title == "Seizure"
    assert a.published == date(2021, 6, 3) and a.published_inferred  # from the text, not the bad head value
    assert any("url" in w for w in a.warnings) and any("published" in w for w in a.warnings)


# --- symbolic links (issue #7) ---------------------------------------------------------------------------------

def test_folder_links_leading_outside_are_skipped_and_reported(tmp_path):
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.txt").write_text("Private note that is not an article.\n", encoding="utf-8")
    (outside / "deep" / "other.txt").write_text("Another private note.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "real.txt").write_text("Police seized cocaine in Callao on 4 June 2019.\n", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked_dir").symlink_to(outside / "deep", target_is_directory=True)
    (corpus / "inside.txt").symlink_to(corpus / "sub" / "real.txt")  # stays inside the folder: read
    articles, errors = read_corpus([corpus])
    assert sorted(a.name for a in articles) == ["inside.txt", "real.txt"]
    assert sorted(e.path.rsplit("/", 1)[-1] for e in errors) == ["link.txt", "linked_dir"]
    assert all("outside" in e.reason for e in errors)


def test_a_link_named_explicitly_is_read(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("Police seized cocaine in Callao on 4 June 2019.\n", encoding="utf-8")
    (tmp_path / "named").mkdir()
    link = tmp_path / "named" / "link.txt"
    link.symlink_to(target)
    articles, errors = read_corpus([link])
    assert errors == [] and [a.name for a in articles] == ["link.txt"]


def test_sidecar_link_leading_outside_is_refused(tmp_path):
    (tmp_path / "private.yaml").write_text("title: private\n", encoding="utf-8")
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "a.txt").write_text("Police seized cocaine in Callao on 4 June 2019.\n", encoding="utf-8")
    (folder / "a.meta.yaml").symlink_to(tmp_path / "private.yaml")
    with pytest.raises(ArticleError, match="a.txt: metadata file a.meta.yaml .*outside"):
        read_article(folder / "a.txt")


def test_cli_extract_reports_refused_and_flagged_files(write_article, tmp_path, capsys):
    from dashboard.cli import main

    write_article("bomb.md", _alias_bomb())
    write_article("old.md", "---\npublished: 1970-01-02\n---\nPolice seized 10 kilos of cocaine in Iquitos.\n")
    assert main(["extract", str(tmp_path), "-o", str(tmp_path / "out.geojson")]) == 0
    err = capsys.readouterr().err
    assert "skipped bomb.md: front matter refused" in err
    assert "warning: old.md: publication date 1970-01-02 is before 1980" in err
