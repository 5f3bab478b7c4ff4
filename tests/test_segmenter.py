"""The segmenter on the seed excerpts (read from ../shared), on small texts we write, and fuzzed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin
from spacy.training import Example

from unclf import find_paragraphs, segment, segment_many
from unclf.segmenter import parse_many, repair_mac_roman

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"


def seed(prefix: str) -> str:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix} not available in {SEEDS}")
    return matches[0].read_bytes().decode("utf-8")


def by_number(paragraphs):
    return {p.number: p for p in paragraphs if p.number}


def assert_offsets(text, paragraphs):
    previous_end = 0
    for i, p in enumerate(paragraphs):
        assert p.index == i
        assert previous_end <= p.start < p.end <= len(text)
        assert not text[p.start].isspace() and not text[p.end - 1].isspace()
        previous_end = p.end


# --- the seeds --------------------------------------------------------------------------------


def test_seed_000_flat_heading_and_numbered_paragraphs():
    text = seed("000")
    paragraphs = segment(text)
    assert_offsets(text, paragraphs)
    heading = paragraphs[0]
    assert heading.kind == "heading" and heading.number == "III"
    assert heading.text.startswith("Cooperation and coordination")
    assert heading.text.endswith("regional organizations")
    numbered = by_number(paragraphs)
    assert [p.number for p in paragraphs[1:]] == ["10", "11", "12"]
    for number in ("10", "11", "12"):
        p = numbered[number]
        assert text[p.start : p.end].startswith(f"{number}. ")
        assert p.section.startswith("III. Cooperation")
    assert numbered["10"].text.endswith("adopted by the Durban seminar.")
    assert numbered["12"].text.endswith("E/CN.4/2002/92.")  # the page number 6 is not in it
    assert all(
        "Select target" not in p.text and "Select target" not in text[p.start : p.end]
        for p in paragraphs
    )
    assert "A/58/255" not in text[paragraphs[0].start : paragraphs[-1].end]


def test_seed_001_running_header_inline_heading_and_references():
    text = seed("001")
    paragraphs = segment(text)
    assert_offsets(text, paragraphs)
    assert [(p.number, p.kind) for p in paragraphs] == [
        ("9", "paragraph"),
        ("C", "heading"),
        ("10", "paragraph"),
        ("11", "paragraph"),
    ]
    assert "page 4" not in text[paragraphs[0].start : paragraphs[0].end]
    # Numbers inside sentences do not start paragraphs.
    assert "paragraph 74 (a) of the Durban Programme" in paragraphs[2].text
    assert paragraphs[2].section == "C. Building thematic expertise"


def test_seed_002_numbers_alone_on_their_line_deleted_items_and_restarts():
    text = seed("002")
    paragraphs = segment(text)
    assert_offsets(text, paragraphs)
    first_session = [p.number for p in paragraphs[:20] if p.kind == "paragraph" and p.number]
    # 10 and 11 are deleted items ("10. (", "11.") and appear nowhere.
    assert first_session[:14] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "12",
        "13",
        "14",
        "15",
        "16",
    ]
    one = next(p for p in paragraphs if p.number == "1")
    assert text[one.start : one.end].startswith("1.\n")
    assert one.text.startswith("The Intergovernmental Working Group emphasizes")
    # Numbering restarts under the next session's headings.
    assert [p.number for p in paragraphs].count("1") >= 2
    education = next(p for p in paragraphs if p.text == "Education")
    assert education.kind == "heading"
    items = [p for p in paragraphs if p.kind == "list_item"]
    assert {"(a)", "(b)", "(iii)"} <= {p.number for p in items}


def test_seed_003_pdf_page_with_header_heading_and_page_number():
    text = seed("003")
    paragraphs = segment(text)
    assert_offsets(text, paragraphs)
    numbered = by_number(paragraphs)
    for number in ("42", "43", "44", "45", "46"):
        p = numbered[number]
        assert text[p.start : p.end].startswith(f"{number}.\n")
        assert "\n" not in p.text and "  " not in p.text
    assert numbered["44"].text.endswith("national and external sources.")
    heading = numbered["H"]
    assert heading.kind == "heading"
    assert heading.text == "Increased outreach and networking with minority groups"
    assert numbered["45"].section == "H. Increased outreach and networking with minority groups"
    for p in paragraphs:
        raw = text[p.start : p.end]
        assert "A/HRC/19/56" not in raw
        assert not raw.endswith("12")
    assert numbered["46"].text.endswith("minority groups. A")  # cut at the page edge


def test_seed_004_title_six_paragraphs_metadata_dropped():
    text = seed("004")
    paragraphs = segment(text)
    assert_offsets(text, paragraphs)
    assert paragraphs[0].kind == "heading"
    assert paragraphs[0].text == "Promoting international cooperation in human rights"
    body = paragraphs[1:]
    assert len(body) == 6 and all(p.kind == "paragraph" for p in body)
    assert body[-1].text.endswith("will be followed up.")
    covered = text[paragraphs[0].start : paragraphs[-1].end]
    for metadata in ("Communication Promotion", "Type Classification", "Exceptional strategies"):
        assert metadata not in covered


# --- layouts, written for the tests -----------------------------------------------------------

WRAPPED = """A/HRC/99/1
page 3
1.
The Working Group met in Geneva and heard the statements of twelve delegations on
the situation of minorities in the region, in particular of their access to educa-
tion and to the labour market.
2.
It recommends that States strengthen their cooperation with regional organizations
A/HRC/99/1
4
and report on it at the next session.
B.
Follow-up
3.
The secretariat will circulate the summary.
"""


def test_wrapped_pdf_text_joins_lines_repairs_hyphens_and_skips_furniture():
    paragraphs = find_paragraphs(WRAPPED)
    assert [(p.number, p.kind) for p in paragraphs] == [
        ("1", "paragraph"),
        ("2", "paragraph"),
        ("B", "heading"),
        ("3", "paragraph"),
    ]
    assert "access to education and" in paragraphs[0].text
    two = paragraphs[1]
    assert two.text == (
        "It recommends that States strengthen their cooperation with regional "
        "organizations and report on it at the next session."
    )
    assert WRAPPED[two.start : two.end].startswith("2.\nIt recommends")
    assert paragraphs[3].section == "B. Follow-up"


def test_flat_text_with_numbers_inside_sentences():
    text = (
        "II. Activities 5. The Office held a seminar on 1, 2 and 5 September 2001 pursuant to "
        "resolution 2000/52 and paragraph 74 (a) of the Programme. 6. It published document "
        "E/CN.4/2002/92. 7. The Office will report again."
    )
    paragraphs = find_paragraphs(text)
    assert [p.number for p in paragraphs] == ["II", "5", "6", "7"]
    assert paragraphs[2].text == "It published document E/CN.4/2002/92."


def test_deleted_item_and_empty_text():
    assert find_paragraphs("") == []
    assert find_paragraphs("   \n\n  \r\n") == []
    text = "4. The first item.\n\n5. (\n\n6.\n\n7. The last item."
    assert [p.number for p in find_paragraphs(text)] == ["4", "7"]


def test_interface_patterns_are_configurable():
    text = "1. The first paragraph of the text.\n\nSelect target paragraph3"
    assert len(find_paragraphs(text)) == 1
    nlp = spacy.blank("en")
    nlp.add_pipe("unclf_paragraphs", config={"interface_patterns": [r"first"]})
    assert "first" not in segment(text, nlp=nlp)[0].text


def test_spacy_component_writes_spans_on_the_doc():
    nlp = spacy.blank("en")
    nlp.add_pipe("unclf_paragraphs")
    doc = nlp(WRAPPED)
    spans = doc.spans["paragraphs"]
    assert [s.label_ for s in spans] == [p.kind for p in doc._.paragraphs]
    for span, p in zip(spans, doc._.paragraphs, strict=True):
        assert span.start_char <= p.start and p.end <= span.end_char


def test_spacy_component_results_survive_serialisation():
    nlp = spacy.blank("en")
    nlp.add_pipe("unclf_paragraphs")
    doc = nlp(WRAPPED)
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert again._.paragraphs == doc._.paragraphs == find_paragraphs(WRAPPED)
    stored = DocBin(store_user_data=True, docs=[doc]).to_bytes()
    (loaded,) = DocBin().from_bytes(stored).get_docs(nlp.vocab)
    assert loaded._.paragraphs == doc._.paragraphs
    assert [s.label_ for s in loaded.spans["paragraphs"]] == [p.kind for p in doc._.paragraphs]


def test_factory_is_registered_through_the_entry_point():
    code = (
        "import spacy; nlp = spacy.blank('en'); nlp.add_pipe('unclf_paragraphs'); "
        "print(len(nlp('1. One.\\n\\n2. Two.').spans['paragraphs']))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"


def _reference(nlp: spacy.Language, text: str, spans: list[tuple[int, int]]) -> Doc:
    doc = nlp.make_doc(text)
    doc.spans["paragraphs"] = [doc.char_span(s, e, alignment_mode="expand") for s, e in spans]
    return doc


def test_nlp_evaluate_reports_paragraph_precision_recall_f1():
    nlp = spacy.blank("en")
    nlp.add_pipe("unclf_paragraphs")
    gold = [(p.start, p.end) for p in find_paragraphs(WRAPPED)]
    assert len(gold) >= 3
    perfect = Example(nlp.make_doc(WRAPPED), _reference(nlp, WRAPPED, gold))
    scores = nlp.evaluate([perfect])
    assert scores["spans_paragraphs_p"] == scores["spans_paragraphs_r"] == 1.0
    assert scores["spans_paragraphs_f"] == 1.0
    # The reference joins the first two paragraphs: both predicted ones miss, and the joined
    # one is not found.
    joined = [(gold[0][0], gold[1][1]), *gold[2:]]
    scores = nlp.evaluate([Example(nlp.make_doc(WRAPPED), _reference(nlp, WRAPPED, joined))])
    assert scores["spans_paragraphs_p"] == pytest.approx((len(gold) - 2) / len(gold))
    assert scores["spans_paragraphs_r"] == pytest.approx((len(joined) - 1) / len(joined))


def test_component_declares_what_it_assigns_and_how_it_is_scored():
    nlp = spacy.blank("en")
    nlp.add_pipe("unclf_paragraphs")
    meta = nlp.get_pipe_meta("unclf_paragraphs")
    assert set(meta.assigns) == {"doc.spans", "doc._.paragraphs"}
    assert nlp.config["training"]["score_weights"]["spans_paragraphs_f"] == 1.0
    assert nlp.config["components"]["unclf_paragraphs"]["scorer"] == {
        "@scorers": "unclf.paragraph_scorer.v1"
    }


def test_doc_extension_is_registered_by_the_component_not_at_import():
    code = (
        "import unclf, spacy; from spacy.tokens import Doc\n"
        "print(Doc.has_extension('paragraphs'))\n"
        "spacy.blank('en').add_pipe('unclf_paragraphs')\n"
        "print(Doc.has_extension('paragraphs'))\n"
        "spacy.blank('en').add_pipe('unclf_paragraphs')  # a second component: no force needed\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
    taken = (
        "import spacy; from spacy.tokens import Doc\n"
        "Doc.set_extension('paragraphs', default=None)\n"
        "spacy.blank('en').add_pipe('unclf_paragraphs')\n"
    )
    out = subprocess.run([sys.executable, "-c", taken], capture_output=True, text=True)
    assert out.returncode != 0 and "already registered by another package" in out.stderr


def test_parse_many_keeps_word_tokens_of_each_paragraph():
    parsed = next(parse_many(["1. Alpha beta.\n\n2. Gamma, delta!"]))
    assert list(parsed.token_paragraph) == [0, 0, 0, 1, 1, 1]  # "1", "alpha", "beta", ...
    assert len(parsed.token_ids) == 6


# --- properties -------------------------------------------------------------------------------

# Fragments that exercise the segmenter's rules, glued together at random; and any text at all.
fragments = st.sampled_from(
    [
        *"ab AZ.;,:()12\n\r\t-–“”/",
        "10. ",
        "\n\n",
        "III. ",
        "(a) ",
        "The ",
        "Recalling ",
        "A/HRC/9/8",
        "\n12\n",
        "page 4",
        "Select target paragraph3",
        ", Noting ",
    ]
)
texts = st.lists(fragments, max_size=120).map("".join) | st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_offsets_in_bounds_ordered_and_never_crash(text):
    paragraphs = find_paragraphs(text)
    assert_offsets(text, paragraphs)
    for p in paragraphs:
        assert p.text == " ".join(p.text.split())
        assert p.kind in ("paragraph", "heading", "list_item")


@settings(max_examples=150, deadline=None)
@given(texts)
def test_line_endings_do_not_change_paragraphs(text):
    unix = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = [(p.text, p.number, p.kind) for p in find_paragraphs(unix)]
    for ending in ("\r\n", "\r"):
        converted = unix.replace("\n", ending)
        paragraphs = find_paragraphs(converted)
        assert [(p.text, p.number, p.kind) for p in paragraphs] == expected
        assert_offsets(converted, paragraphs)


def test_segment_many_matches_segment():
    docs = [WRAPPED, "1. One.\n\n2. Two.", ""]
    assert list(segment_many(docs)) == [segment(t) for t in docs]


def test_lone_surrogates_segment_and_parse_with_offsets_kept() -> None:
    text = "1. a \ud800 b.\n\n2. Second one here."
    paragraphs = segment(text)
    assert [text[p.start : p.end] for p in paragraphs] == ["1. a \ud800 b.", "2. Second one here."]
    parsed = next(parse_many([text]))
    assert "second" in parsed.words


def test_mac_roman_read_as_windows_1252_is_read_again_with_offsets_kept() -> None:
    # Written for this test in the way PDFs made on a Mac arrive: apostrophes as "Õ", quotes
    # as "Ò...Ó", a bullet as "¥", "é" as "Ž".
    text = (
        "1. Protect the rights of the StateÕs minorities (CÕte dÕIvoire);\n\n"
        "¥ Adopt the ÒNational planÓ for RŽunion.\n"
    )
    paragraphs = segment(text)
    assert [p.text for p in paragraphs] == [
        "Protect the rights of the State’s minorities (C’te d’Ivoire);",
        "Adopt the “National plan” for Réunion.",
    ]
    assert [text[p.start : p.end][:6] for p in paragraphs] == ["1. Pro", "¥ Adop"]
    assert paragraphs[1].kind == "list_item"
    words = set(next(parse_many([text])).words)
    assert {"state", "’s", "national", "plan", "réunion"} <= words
    assert not any("õ" in w or "ò" in w for w in words)


def test_text_without_the_signs_of_mac_roman_is_left_as_it_is() -> None:
    text = "1. OWNER: PIÑON GATHERING COMPANY, LLC, Òscar Ñúñez and São Tomé."
    assert repair_mac_roman(text) == text
    assert segment(text)[0].text == text[3:]


def test_wide_gaps_after_a_sentence_end_split_clauses_of_one_line():
    # Invented contract text: EDGAR-style lines carry several clauses separated by runs of spaces.
    text = (
        "Terms apply to both parties.   16. Insurance. The supplier keeps insurance.   "
        "17. Governing Law. This Agreement is governed by the laws of Ruritania.   "
        "18. Assignment. Neither party may assign it.\n"
        "A wrapped line keeps  two spaces  inside a sentence and stays whole.\n"
    )
    paragraphs = segment(text)
    assert [p.number for p in paragraphs] == [None, "16", "17", "18", None]
    governing = paragraphs[2]
    assert text[governing.start : governing.end] == (
        "17. Governing Law. This Agreement is governed by the laws of Ruritania."
    )
    assert paragraphs[-1].text.startswith("A wrapped line keeps two spaces inside")


def test_a_line_standing_alone_on_every_page_is_a_running_footer():
    # Invented contract text: a filing service stamps its source line after every page.
    footer = "Source: RURITANIA WIDGETS INC, 10-K, 3/1/2019"
    pages = [
        "1. Definitions. Words have the meanings given here.",
        "2. Supply. The supplier delivers the widgets.",
        "3. Price. The buyer pays the price on time.",
        "4. Term. This Agreement lasts five years.",
    ]
    text = f"\n\n{footer}\n\n".join(pages) + f"\n\n{footer}\n"
    paragraphs = segment(text)
    assert [p.number for p in paragraphs] == ["1", "2", "3", "4"]
    assert all("Source" not in text[p.start : p.end] for p in paragraphs)


def test_repeated_lines_that_are_text_or_close_together_stay_paragraphs():
    # Invented signature blocks: the same name three times close together is content, and so
    # is a repeated sentence.
    body = "\n\n".join(f"{i}. Clause {i} of the agreement binds both parties." for i in range(1, 9))
    tail = "\n\n".join(["ACME WIDGETS LLC", "By: J. Smith", "ACME WIDGETS LLC", "ACME WIDGETS LLC"])
    sentence = "The parties agree."
    text = f"{sentence}\n\n{body}\n\n{sentence}\n\n{body}\n\n{sentence}\n\n{tail}\n\n{body}\n"
    texts = [p.text for p in segment(text)]
    assert texts.count("ACME WIDGETS LLC") == 3
    assert texts.count(sentence) == 3


def test_a_cover_page_statement_spread_over_short_lines_is_one_paragraph():
    # Invented contract cover page: the title, the parties and the joining words each stand on
    # their own line, between blank lines; the date after them is a statement of its own.
    text = (
        "Exhibit 10.4\n\nSUPPLY AGREEMENT\n\nby and between\n\nRuritania Widgets, Inc.\n\n"
        "and\n\nGrand Fenwick Trading Ltd.\n\nDated as of May 1, 2019\n\n"
        "1. Supply. The supplier delivers the widgets on time.\n"
    )
    paragraphs = segment(text)
    assert [p.text for p in paragraphs[:3]] == [
        "Exhibit 10.4",
        "SUPPLY AGREEMENT by and between Ruritania Widgets, Inc. and Grand Fenwick Trading Ltd.",
        "Dated as of May 1, 2019",
    ]
    cover = paragraphs[1]
    assert text[cover.start : cover.end].endswith("Grand Fenwick Trading Ltd.")


def test_a_line_ending_on_a_joining_word_continues_after_a_page_break():
    # Invented report text cut at a page edge after "of"; the next page starts with a capital.
    text = (
        "10. The delegation met the Minister of\n\n\nJustice and the Ombudsman.\n\n"
        "11. The delegation thanked them.\n"
    )
    assert [p.number for p in segment(text)] == ["10", "11"]


def test_an_initial_after_a_joining_word_is_no_section_marker():
    # Invented text: a party named with an initial after "by and between", and a roman II
    # after "I and"; neither letter opens a section.
    text = (
        "This Agreement is made\n\nby and between\n\nJ. Fenwick Trading Ltd\n\n"
        "with an office in Ruritania.\n\n"
        "12. The Council recalls Additional Protocols I and\n\n\nII. It urges the parties to "
        "respect them.\n\nB. Cooperation with regional organizations\n\n13. The Council "
        "welcomes it.\n"
    )
    assert [p.text for p in segment(text)] == [
        "This Agreement is made by and between J. Fenwick Trading Ltd with an office in Ruritania.",
        "The Council recalls Additional Protocols I and II. It urges the parties to respect them.",
        "Cooperation with regional organizations",
        "The Council welcomes it.",
    ]


def test_a_section_heading_after_a_title_is_a_heading_of_its_own():
    # Invented text: the title, then "I. Introduction", flattened and hard-wrapped.
    wrapped = "The present report covers the activities of the Working Group during the"
    for title, text in (
        (
            "Report of the Secretary-General",
            f"Report of the Secretary-General I. Introduction 1. {wrapped} period. II. "
            f"Developments 2. {wrapped} year, and several States reformed their laws.",
        ),
        (
            "Report of the Working Group on Arbitrary Detention",
            "Report of the Working Group on Arbitrary Detention\nI. Introduction\n1.\n"
            f"{wrapped}\nperiod.\nII. Activities of the Working Group\nA. Sessions\n2.\n"
            f"{wrapped}\nyear.\n",
        ),
    ):
        paragraphs = segment(text)
        assert paragraphs[0].text == title, text
        assert [(p.kind, p.number, p.text[:18]) for p in paragraphs[1:3]] == [
            ("heading", "I", "Introduction"),
            ("paragraph", "1", "The present report"),
        ], text


def test_an_initial_after_a_short_line_goes_on_with_its_sentence():
    # Invented text: a name's initial starts a line; it is no section heading.
    text = (
        "12. The Council heard the statement made by the representative of Norland,\n"
        "represented at the meeting by Ambassador\n"
        "A. van der Berg, who spoke on behalf of the group of States of the region and\n"
        "welcomed the report.\n"
    )
    assert len(segment(text)) == 1


def test_a_wide_gap_before_and_does_not_split_a_line():
    # Invented EDGAR-style title line: the gap before "And" joins two names; it is no clause.
    text = "AGREEMENT   BETWEEN   RURITANIA WIDGETS, INC.   And   FENWICK TRADING LTD.\n"
    assert [p.text for p in segment(text)] == [
        "AGREEMENT BETWEEN RURITANIA WIDGETS, INC. And FENWICK TRADING LTD."
    ]


def test_a_list_item_ending_on_and_or_a_lone_or_stays_apart():
    # Invented contract text: "; and" ends a list item (however many spaces before "and"), and
    # "OR" alone stands between two options; neither joins the next line.
    text = (
        "The parties agree:\n\n(a) to pay the fee;  and\n\n"
        "The seller shall deliver the goods on the date agreed.\n\n"
        "Option A. The buyer pays in cash.\n\nOR\n\nOption B. The buyer pays by cheque.\n"
    )
    assert [p.text for p in segment(text)] == [
        "The parties agree:",
        "to pay the fee; and",
        "The seller shall deliver the goods on the date agreed.",
        "Option A. The buyer pays in cash.",
        "OR",
        "Option B. The buyer pays by cheque.",
    ]


def test_a_list_item_without_closing_punctuation_is_no_heading():
    # Invented recommendations; the middle one lost its ';' and is short like a heading.
    text = (
        "II. Conclusions and recommendations\n\n"
        "12.30 Continue the reform of the judiciary with international assistance (Ruritania);\n\n"
        "12.31 Adopt a national action plan (Fenwick)\n\n"
        "12.32 Strengthen cooperation with regional organizations (Grand Fenwick);\n\n"
        "12.33 Annual report\n\n"
        "The Council welcomes it.\n"
    )
    kinds = [(p.number, p.kind) for p in segment(text)]
    assert kinds == [
        ("II", "heading"),
        ("12.30", "paragraph"),
        ("12.31", "paragraph"),
        ("12.32", "paragraph"),
        ("12.33", "heading"),
        (None, "paragraph"),
    ]
    assert all(p.section == "II. Conclusions and recommendations" for p in segment(text)[1:5])


def test_multi_level_numbers_without_their_dot_still_number_a_list():
    # Invented recommendations, numbered "136.1 " as in some UPR reports, not "136.1. ".
    text = (
        "The State under review examined the recommendations below.\n\n"
        "136.1 Ratify the convention on enforced disappearance (Ruritania);\n\n"
        "136.2 Accede to the second optional protocol (Fenwick);\n\n"
        "136.3 Adopt a national plan on minorities (Grand Fenwick).\n\n"
        "1.5 million people were displaced in the floods of that year.\n"
    )
    paragraphs = segment(text)
    assert [p.number for p in paragraphs] == [None, "136.1", "136.2", "136.3", None]
    assert paragraphs[1].text == "Ratify the convention on enforced disappearance (Ruritania);"
    assert text[paragraphs[1].start : paragraphs[1].end].startswith("136.1 Ratify")
    assert paragraphs[4].text.startswith("1.5 million")
    # A bulleted item keeps all that follows its bullet.
    bullets = segment("• 2.1 Ratify the convention (Ruritania);\n\n• 2.2 Adopt a plan (Fenwick);\n")
    assert [(p.number, p.text[:3]) for p in bullets] == [(None, "2.1"), (None, "2.2")]


# An invented contract whose clauses ran together in lines of 600-2,000 characters, as in
# contracts converted from EDGAR filings; the other lines make it no flattened text.
_CLAUSE_FILLER = (
    "Each party shall bear its own costs of performance under this Agreement, and neither "
    "party shall be liable to the other for any delay caused by events beyond its control. "
)
RUN_TOGETHER = "\n\n".join(
    [
        "SERVICES AGREEMENT",
        "This Services Agreement is made between Northwind Ltd. and Harbour Systems Inc.",
        "11. Term. This Agreement starts on the Effective Date. "
        + _CLAUSE_FILLER * 3
        + "12. Termination. Either party may end this Agreement on ninety days notice. "
        + _CLAUSE_FILLER * 2,
        "13.1 Governing Law. This Agreement is governed by the laws of the State of Fremont. "
        + _CLAUSE_FILLER * 3
        + "13.2 Arbitration. Disputes go to arbitration in Fremont City. "
        + _CLAUSE_FILLER * 2,
        "14. Fees. The fee is 12.5 per cent of sales. "
        + _CLAUSE_FILLER * 3
        + "The fee was 10. 12.5 Million units were sold, as set out in section 15. The buyer "
        "paid in full, as described in the recitals, Tracking Systems Ltd. acting as agent. "
        + _CLAUSE_FILLER,
        "15. Notices. Notices are given in writing.",
        "16. Counterparts. This Agreement may be signed in counterparts.",
        "17. Entire Agreement. This is the whole agreement of the parties.",
    ]
)


def test_numbered_clauses_run_together_in_a_line_are_paragraphs():
    paragraphs = find_paragraphs(RUN_TOGETHER)
    numbers = [p.number for p in paragraphs]
    assert numbers == [None, None, "11", "12", "13.1", "13.2", "14", "15", "16", "17"]
    arbitration = paragraphs[5]
    assert arbitration.text.startswith("Arbitration. Disputes go to arbitration")
    assert RUN_TOGETHER[arbitration.start : arbitration.end].startswith("13.2 Arbitration.")
    assert paragraphs[4].text.endswith(_CLAUSE_FILLER.strip())
    # In clause 14, "12.5 Million" follows no number of the list, "section 15." is a
    # reference, and "Tracking" after a comma is no preambular paragraph in so short a line.
    assert paragraphs[6].text.endswith("acting as agent. " + _CLAUSE_FILLER.strip())


def test_recommendations_run_together_in_a_short_line_are_paragraphs():
    # Invented recommendations; the second lost its line break in the source.
    lines = [
        f"122.{n}. Strengthen the national human rights institution (Ruritania);"
        for n in range(70, 77)
    ]
    lines.append(
        "122.77. Cooperate with OHCHR and allow access to a mission of the Office, as the "
        "High Commissioner requested (Freedonia); 122.78. Accept the visit requests of the "
        "special procedures (Ruritania);"
    )
    text = "\n".join(lines)
    paragraphs = find_paragraphs(text)
    assert [p.number for p in paragraphs][-2:] == ["122.77", "122.78"]
    assert paragraphs[-2].text.endswith("as the High Commissioner requested (Freedonia);")
    assert text[paragraphs[-1].start :].startswith("122.78. Accept")


def test_numbers_inside_a_line_that_continue_no_list_stay_text():
    filler = "The Committee welcomes the steps taken and asks for more information on them. " * 2
    lines = [
        f"11. {filler}It recalls its general recommendation No. 19. The Committee notes it.",
        f"12. {filler}Sales rose. 4.1 Million units were sold. {filler}",
        f"13. {filler}The State shall: 1. Pay the fee; 2. Keep records. That is all. 14. {filler}",
        f"1.5 million people were displaced in the year under review. It is so. 15. {filler}",
        *(f"{n}. {filler}" for n in range(16, 20)),
    ]
    paragraphs = find_paragraphs("\n".join(lines))
    # A reference after "No.", an amount, a sub-list and a figure opening a line are no
    # items of the list 11-19; the items glued after them are.
    numbers = [p.number for p in paragraphs]
    assert numbers == ["11", "12", "13", "14", None, "15", "16", "17", "18", "19"]
    assert paragraphs[0].text.endswith("No. 19. The Committee notes it.")
    assert "4.1 Million units" in paragraphs[1].text
    assert paragraphs[2].text.endswith("1. Pay the fee; 2. Keep records. That is all.")
    assert paragraphs[4].text.startswith("1.5 million people")
    assert paragraphs[4].text.endswith("under review. It is so.")


def test_stretch_tokens_shared_by_two_threads_give_one_threads_tokens() -> None:
    """The review server parses in two threads; a small cache is cleared while they run."""
    import random
    import threading

    from unclf.segmenter.pipeline import _StretchTokens

    draw = random.Random(0)
    texts = [
        " ".join(
            "".join(draw.choice("abcdefgh") for _ in range(draw.randint(2, 8))) for _ in range(200)
        )
        for _ in range(30)
    ]
    expected = [_StretchTokens(spacy.blank("en").tokenizer)(t) for t in texts]
    shared = _StretchTokens(spacy.blank("en").tokenizer, size=100)
    found: dict[int, list] = {0: [], 1: []}
    errors: list[BaseException] = []

    def parse(k: int) -> None:
        try:
            for i in range(len(texts)) if k == 0 else reversed(range(len(texts))):
                found[k].append((i, shared(texts[i])))
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=parse, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for k in (0, 1):
        for i, tokens in found[k]:
            assert (tokens == expected[i]).all()
