"""The six UN languages: each read in its three layouts, told from its text, tokenized by its
own blank pipeline; a model trained on one language warns on another. The resolutions here are
invented for the tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import spacy

from unclf.segmenter import Paragraph, find_paragraphs, parse_many, segment, segment_many
from unclf.segmenter.languages import detect_language, rules_for

# Each resolution: its paragraphs as a reader sees them, number first where there is one.
RESOLUTIONS = {
    "en": [
        "The Security Council,",
        "Recalling its previous resolutions on the situation in Ruritania,",
        "Welcoming the progress made by the parties towards a lasting settlement,",
        "1. Decides to extend the mandate of the Mission until 31 March 2031;",
        "2. Requests the Secretary-General to report to it every 90 days;",
        "3. Decides to remain actively seized of the matter.",
    ],
    "fr": [
        "Le Conseil de sécurité,",
        "Rappelant ses résolutions antérieures sur la situation en Ruritanie,",
        "Se félicitant des progrès accomplis par les parties vers un règlement durable,",
        "1. Décide de proroger le mandat de la Mission jusqu’au 31 mars 2031 ;",
        "2. Prie le Secrétaire général de lui faire rapport tous les 90 jours ;",
        "3. Décide de rester activement saisi de la question.",
    ],
    "es": [
        "El Consejo de Seguridad,",
        "Recordando sus resoluciones anteriores sobre la situación en Ruritania,",
        "Acogiendo con beneplácito los progresos logrados por las partes hacia un arreglo,",
        "1. Decide prorrogar el mandato de la Misión hasta el 31 de marzo de 2031;",
        "2. Solicita al Secretario General que lo informe cada 90 días;",
        "3. Decide seguir ocupándose activamente de la cuestión.",
    ],
    "ru": [
        "Совет Безопасности,",
        "ссылаясь на свои предыдущие резолюции о положении в Рурутании,",
        "приветствуя прогресс, достигнутый сторонами на пути к прочному урегулированию,",
        "1. постановляет продлить мандат Миссии до 31 марта 2031 года;",
        "2. просит Генерального секретаря представлять ему доклады каждые 90 дней;",
        "3. постановляет продолжать активно заниматься этим вопросом.",
    ],
    "ar": [
        "إن مجلس الأمن،",
        "إذ يشير إلى قراراته السابقة بشأن الحالة في روريتانيا،",
        "وإذ يرحب بالتقدم الذي أحرزه الطرفان نحو تسوية دائمة،",
        "1 - يقرر تمديد ولاية البعثة حتى 31 آذار/مارس 2031؛",
        "2 - يطلب إلى الأمين العام أن يقدم إليه تقريرا كل 90 يوما؛",
        "3 - يقرر أن يبقي المسألة قيد نظره الفعلي.",
    ],
    "zh": [
        "安全理事会，",
        "回顾其以往关于鲁里塔尼亚局势的各项决议，",
        "欢迎各方在实现持久解决方面取得的进展，",
        "1. 决定将特派团的任务期限延长至2031年3月31日；",
        "2. 请秘书长每90天向安理会提交一次报告；",
        "3. 决定继续积极处理此案。",
    ],
}
LANGUAGES = sorted(RESOLUTIONS)


def clean(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


def flat(paragraphs: list[str]) -> str:
    return " ".join(paragraphs)


def pdf(paragraphs: list[str], language: str) -> str:
    """Hard-wrapped lines, the operative numbers alone on their line, and a running header and
    a page number in the middle of the second paragraph (Chinese is not wrapped: a line is a
    paragraph, as in Chinese PDFs)."""
    lines = []
    for k, paragraph in enumerate(paragraphs):
        number, _, rest = paragraph.partition(" ")
        if number[:1].isdigit():
            lines.append(number if language != "ar" else f"{number} -")
            paragraph = rest if language != "ar" else rest.partition(" ")[2]
        wrapped = [paragraph] if language == "zh" else textwrap.wrap(paragraph, 40)
        if k == 1:
            wrapped[1:1] = ["S/RES/9999 (2031)", "2/3"]
        lines.extend(wrapped)
    return "\n".join(lines)


def unnumbered(paragraph: str) -> str:
    """A paragraph's text without its number ("1. Decides" -> "Decides", "1 - يقرر")."""
    number, _, rest = paragraph.partition(" ")
    if not number[:1].isdigit():
        return paragraph
    return rest.partition(" ")[2] if rest.startswith("- ") else rest


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("layout", ["clean", "flat", "pdf"])
def test_each_language_is_read_in_each_layout(language: str, layout: str) -> None:
    expected = RESOLUTIONS[language]
    layouts = {"clean": clean, "flat": flat, "pdf": lambda ps: pdf(ps, language)}
    text = layouts[layout](expected)
    found = find_paragraphs(text)
    # The running header and the page number belong to no paragraph.
    assert [p.text for p in found] == [unnumbered(e) for e in expected]
    assert [p.number for p in found] == [None, None, None, "1", "2", "3"]
    # The same with the language given instead of told from the text.
    assert find_paragraphs(text, language=language) == found


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_language_is_told_from_the_text(language: str) -> None:
    assert detect_language(clean(RESOLUTIONS[language])) == language


def test_a_text_without_letters_is_read_as_english() -> None:
    assert detect_language("") == "en"
    assert detect_language("12 345 / 67") == "en"


def test_languages_are_named_by_code_or_english_name() -> None:
    assert rules_for("French").code == rules_for("fr").code == "fr"
    with pytest.raises(ValueError, match="unknown language 'xx'; known: en"):
        rules_for("xx")


def test_a_clause_that_continues_a_preambular_paragraph_is_not_a_new_one() -> None:
    # After a comma inside one flattened paragraph, "включая" (including) goes on; so does a
    # quote after a colon.
    russian = flat(
        [
            "Совет Безопасности,",
            "ссылаясь на свои резолюции, включая резолюцию 1000 (2020), и подчеркивая их "
            "важность для мира и безопасности в регионе,",
            "1. постановляет продлить мандат Миссии до 31 марта 2031 года;",
            "2. постановляет продолжать активно заниматься этим вопросом.",
        ]
    )
    assert len(find_paragraphs(russian)) == 4
    english = flat(
        [
            "The Security Council,",
            "Recalling its previous resolutions on the situation in Ruritania,",
            "1. Notes the strategy of the Secretary-General: “Way Forward: a Strategy for "
            "Peace” and the report on its implementation;",
            "2. Decides to remain seized of the matter.",
        ]
    )
    assert len(find_paragraphs(english)) == 4


def test_an_unnumbered_operative_paragraph_in_a_flattened_line() -> None:
    text = flat(
        [
            "The Security Council,",
            "Having considered the question of the recommendation for the appointment of the "
            "Secretary-General of the United Nations,",
            "Recommends to the General Assembly that Ms. Ana Example be appointed "
            "Secretary-General of the United Nations for a term of office of five years.",
        ]
    )
    assert [p.text[:12] for p in find_paragraphs(text)] == [
        "The Security",
        "Having consi",
        "Recommends t",
    ]
    text = flat(
        [
            "The Security Council,",
            "Recalling its previous resolutions and the statements of its President on the "
            "situation in Ruritania,",
            "Strongly condemns the attack of 1 May 2031 against the Mission, and calls on all "
            "parties to respect the ceasefire agreed in Zenda.",
        ]
    )
    assert [p.text[:12] for p in find_paragraphs(text)] == [
        "The Security",
        "Recalling it",
        "Strongly con",
    ]


def test_arabic_numbers_and_lettered_items() -> None:
    text = "1 - يقرر ما يلي:\n\n(أ) أن يمدد الولاية؛\n\nب - أن يطلب تقريرا."
    assert [(p.number, p.kind) for p in find_paragraphs(text)] == [
        ("1", "paragraph"),
        ("(أ)", "list_item"),
        ("(ب)", "list_item"),
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_text_is_tokenized_by_its_own_language(language: str) -> None:
    text = clean(RESOLUTIONS[language])
    [parsed] = parse_many([text])
    assert parsed.language == language
    assert len(parsed.paragraphs) == 6
    # The words are those of spaCy's blank pipeline of that language, taken in the
    # paragraphs (offsets into the text as given).
    expected = {t.lower_ for t in spacy.blank(language)(text) if not (t.is_punct or t.is_space)}
    assert set(parsed.words) == expected


def test_chinese_is_tokenized_into_characters() -> None:
    [parsed] = parse_many([clean(RESOLUTIONS["zh"])])
    assert {"安", "全", "理", "事", "会"} <= set(parsed.words)
    assert all(len(word) == 1 or word.isascii() for word in parsed.words)


def test_a_language_given_overrides_the_texts_own() -> None:
    text = clean(RESOLUTIONS["fr"])
    [parsed] = parse_many([text], language="en")
    assert parsed.language == "en"
    assert segment(text, language="en") == find_paragraphs(text, language="en")


def test_a_stream_of_several_languages_keeps_its_order() -> None:
    texts = [clean(RESOLUTIONS[code]) for code in ("en", "fr", "fr", "zh", "en", "ar")]
    assert list(segment_many(texts)) == [find_paragraphs(t) for t in texts]
    assert [d.language for d in parse_many(texts)] == ["en", "fr", "fr", "zh", "en", "ar"]


def test_the_component_takes_a_language_setting() -> None:
    nlp = spacy.blank("fr")
    nlp.add_pipe("unclf_paragraphs", config={"language": "fr"})
    text = flat(RESOLUTIONS["fr"])
    assert len(nlp(text)._.paragraphs) == 6
    with pytest.raises(ValueError, match="unknown language"):
        spacy.blank("en").add_pipe("unclf_paragraphs", config={"language": "xx"})


def test_a_model_trained_on_english_warns_on_french_documents() -> None:
    from unclf import TargetSelector

    examples = Path(__file__).resolve().parent.parent / "data" / "examples.jsonl"
    records = [json.loads(line) for line in examples.read_text().splitlines()][:12]
    texts = [r["text"] for r in records]
    targets = [[(t["start"], t["end"]) for t in r["targets"]] for r in records]
    model = TargetSelector(n_folds=2).fit(texts, targets)
    assert model.language_ == "en"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(model.rank(texts[:2]))  # English: nothing to say
    with pytest.warns(UserWarning, match="French documents given to a model trained on English"):
        ranked = list(model.rank([clean(RESOLUTIONS["fr"]), flat(RESOLUTIONS["fr"])]))
    assert len(ranked) == 2  # a warning, and the suggestions all the same


def test_the_cli_takes_a_language(tmp_path: Path) -> None:
    source = tmp_path / "resolution.txt"
    source.write_text(flat(RESOLUTIONS["fr"]), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "unclf.cli", "segment", str(source), "--language", "French"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["paragraphs"]) == 6
    done = subprocess.run(
        [sys.executable, "-m", "unclf.cli", "segment", str(source), "--language", "xx"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "unknown language 'xx'" in done.stderr
    assert "Traceback" not in done.stderr


def test_predict_takes_a_language_on_the_local_engine_only(tmp_path: Path) -> None:
    source = tmp_path / "resolution.txt"
    source.write_text(clean(RESOLUTIONS["es"]), encoding="utf-8")
    command = [sys.executable, "-m", "unclf.cli", "predict", str(source), "--language", "es"]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["paragraphs"]) == 6
    done = subprocess.run([*command, "--engine", "dask"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "--language works with the local engine" in done.stderr


def found_in_one_line(paragraphs: list[str]) -> list[Paragraph]:
    """The paragraphs found in ``paragraphs`` run into one line, checked to be exactly them:
    their offsets index that line as given."""
    text = flat(paragraphs)
    found = find_paragraphs(text)
    assert [text[p.start : p.end] for p in found] == paragraphs
    return found


def test_arabic_items_in_a_flattened_line_are_paragraphs() -> None:
    # Arabic resolutions set each item of a list apart, also when a viewer runs them into one
    # line: "(أ)", "ب -", "’1‘" and "-" after a semicolon or a colon open a paragraph.
    expected = [
        "إن مجلس الأمن،",
        "إذ يشير إلى قراراته السابقة بشأن الحالة في روريتانيا،",
        "1 - يقرر أن تضطلع البعثة بالمهام التالية:",
        "(أ) حماية المدنيين في جميع أنحاء البلد؛",
        "ب - تهيئة الظروف المؤاتية لإيصال المساعدات الإنسانية:",
        "’1‘ الإسهام في تهيئة بيئة آمنة؛",
        "- دعم السلطات الوطنية في تنفيذ الاتفاق؛",
        "2 - يقرر أن يبقي المسألة قيد نظره.",
    ]
    found = found_in_one_line(expected)
    assert [p.number for p in found] == [None, None, "1", "(أ)", "(ب)", "’1‘", None, "2"]
    assert [p.kind for p in found][3:7] == ["list_item"] * 4


def test_english_items_stay_in_their_flattened_paragraph() -> None:
    text = (
        "1. Decides that the Mission shall have the following tasks: (a) to protect civilians "
        "under threat of physical violence; (b) to support the peace process in Ruritania; "
        "2. Decides to remain seized of the matter."
    )
    assert [p.number for p in find_paragraphs(text)] == ["1", "2"]


def test_russian_sections_and_openings_in_a_flattened_line() -> None:
    # Sections lettered in Latin capitals ("B. Оружейное эмбарго") after a semicolon, and a
    # preambular paragraph opened by "с удовлетворением отмечая" after a comma.
    expected = [
        "Совет Безопасности,",
        "ссылаясь на свои предыдущие резолюции о положении в Рурутании,",
        "с удовлетворением отмечая прогресс, достигнутый сторонами на пути к урегулированию,",
        "1. постановляет продлить мандат Миссии до 31 марта 2031 года;",
        "B. Оружейное эмбарго",
        "2. постановляет, что все государства должны принять необходимые меры;",
        "3. постановляет продолжать активно заниматься этим вопросом.",
    ]
    found = found_in_one_line(expected)
    assert found[4].kind == "heading"
    assert found[5].section == "B. Оружейное эмбарго"
