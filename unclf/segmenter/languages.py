"""What the segmenter needs to know of each of the six UN languages, one place per language.

Everything else in the segmenter (furniture, wrapping, numbering that counts on) is the same in
every language. Each :class:`LanguageRules` says how that language opens a preambular paragraph
("Recalling", "Rappelant", "Recordando", "ссылаясь", "وإذ يشير", "回顾"), which characters end a
statement, which words name a page, join a statement across lines or refer to a paragraph
("paragraph 1."), and how its paragraphs are numbered ("1.", "1 -", "(a)", "(أ)").
:func:`detect_language` tells the language of a text from its script and its commonest words.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol, TypeVar

__all__ = [
    "LANGUAGES",
    "LanguageRules",
    "detect_language",
    "main_language",
    "rules_for",
    "warn_other_language",
]


@dataclass(frozen=True)
class LanguageRules:
    """The language-specific part of segmenting; see the module docstring."""

    code: str  # spaCy's language code, also the name a user gives (--language)
    name: str
    # A preambular paragraph's opening, matched where a piece starts after a blank line or a
    # short line (case as written).
    preamble: str
    # Characters that end a statement, and those that end a preambular paragraph.
    sentence_ends: str
    commas: str = ","
    # What a flattened line's paragraph number is followed by ("1. Decides", "1 - يقرر").
    number_then: str = r"\.\s+[A-Z“\"(]"
    # The first character of a paragraph's words after a number in flattened text.
    opening_letter: str = r"A-Z“\""
    # Capitals that open a section's heading after its letter ("B. Arms embargo", "B. Оружейное
    # эмбарго").
    capitals: str = "A-Z"
    # Letters of lettered items: "(a)", "a)", "(أ)".
    item_letters: str = "a-z"
    # A paragraph number that is no "12." ("1 -" in Arabic), as a regex with group "num".
    extra_number: str | None = None
    # List items that a language sets apart as paragraphs of their own, as they open inside a
    # flattened line after a sentence end or a comma ("؛ (ب) ...", "؛ ب - ...", "، ’2‘ ...");
    # None: items inside a line stay in their paragraph, as English sets them.
    inline_item: str | None = None
    page_words: tuple[str, ...] = ("page",)
    joining_words: frozenset[str] = frozenset()
    joining_only: str = r"(?!)"
    reference_words: frozenset[str] = frozenset()
    abbreviations: frozenset[str] = frozenset()
    keep_hyphen_before: frozenset[str] = frozenset()
    # Chinese has no spaces between words: a space after a comma or a full stop is where a
    # flattened line joined two paragraphs.
    space_separates: bool = False
    # Whether the script has capitals: where it has none (Arabic, Chinese), a line that ends
    # inside a sentence is continued by the next, as a lower-case start says in English.
    has_case: bool = True
    # Preambular openings where nothing but the words tells a paragraph from a clause: inside
    # a flattened line, and at the start of a line that follows a full one; None: ``preamble``.
    inline_preamble: str | None = None
    # An operative paragraph's opening verb ("Decides", "Décide"): in a flattened line after a
    # preambular paragraph's comma, an unnumbered operative paragraph starts there.
    operative: str | None = None
    stopwords: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def preamble_start(self) -> re.Pattern:
        return re.compile(self.preamble)

    @cached_property
    def inline_preamble_start(self) -> re.Pattern:
        return re.compile(self.inline_preamble or self.preamble)

    @cached_property
    def terminal(self) -> str:
        """Characters that close a statement or a preambular paragraph."""
        return self.sentence_ends + self.commas


_EN_PREAMBLE = (
    r"(?:(?:Further|Also|Again|[A-Z][a-z]+ly) [a-z]+(?:ing|ed)"
    r"|(?!(?:During|Including|According|Regarding|Following|Concerning|Pending)\b)[A-Z][a-z]+ing"
    r"|Mindful|Guided|Concerned|Convinced|Alarmed|Aware|Conscious|Determined|Cognizant"
    r"|Desirous|Deeply|Gravely|Bearing|Having|Recognizing|Noting)\b"
)


def _words(*words: str) -> str:
    """A pattern of whole words."""
    return rf"(?:{'|'.join(sorted(words, key=len, reverse=True))})(?![\w])"


def _operative(*verbs: str) -> str:
    """English operative verbs, capitalised ("Decides") or after a capitalised adverb
    ("Strongly condemns", "Further decides", "Also requests")."""
    lower = "|".join(sorted(verbs, key=len, reverse=True))
    upper = "|".join(sorted((v.capitalize() for v in verbs), key=len, reverse=True))
    return rf"(?:(?:[A-Z][a-z]+ly|Further|Also|Again) (?:{lower})|(?:{upper}))\b"


def _arabic_words(*words: str) -> str:
    """Words with or without their short vowels and shadda ("يسلم", "يسلّم", "يسلِّم")."""
    marks = "[\u064b-\u0652]*"
    return "|".join(marks.join(word) + marks for word in sorted(words, key=len, reverse=True))


_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"

ENGLISH = LanguageRules(
    code="en",
    name="English",
    preamble=_EN_PREAMBLE,
    sentence_ends='.;:!?”")',
    joining_words=frozenset(["and", "between", "among", "amongst", "by", "with", "of", "or"]),
    joining_only=r"[-–\s]*(?:(?:by\s+)?(?:and\s+)?(?:between|among|amongst)|and)[-–:\s]*",
    reference_words=frozenset(
        [
            *("paragraph", "paragraphs", "para", "paras", "resolution", "resolutions"),
            *("article", "articles", "section", "chapter", "annex", "rule", "rules", "item"),
            *("items", "no", "no.", "and", "or", "to", "of", "in", "page", "pages", "decision"),
        ]
    ),
    abbreviations=frozenset(
        {
            *("no", "nos", "para", "paras", "art", "arts", "sec", "secs", "ch", "chap", "vol"),
            *("rev", "p", "pp", "a.m", "p.m", "op", "cf", "ibid", "e.g", "i.e", "etc", "fig"),
        }
    ),
    keep_hyphen_before=frozenset({"and", "or", "to", "the", "a", "an", "of", "for", "nor"}),
    # "Decides", and with an adverb before it, "Strongly condemns", "Further decides".
    operative=_operative(
        *("decides", "requests", "calls", "urges", "recalls", "recognizes", "recognises"),
        *("underscores", "underlines", "recommends", "reaffirms", "welcomes", "expresses"),
        *("demands", "condemns", "deplores", "regrets", "stresses", "emphasizes", "emphasises"),
        *("encourages", "invites", "endorses", "approves", "authorizes", "authorises"),
        *("affirms", "confirms", "reiterates", "acknowledges", "commends", "appeals"),
        *("declares", "determines", "directs", "instructs", "extends", "insists", "notes"),
        *("takes", "adopts", "agrees", "renews", "supports", "requires", "reminds", "elects"),
        *("appoints", "establishes", "resolves", "considers", "pays"),
    ),
    stopwords=frozenset(["the", "of", "and", "to", "in", "its", "that", "for", "on", "with"]),
)

# French and Spanish end sentences with guillemets too, and open paragraphs on capitals with
# accents ("É").
_LATIN_CAPITALS = {
    "sentence_ends": '.;:!?”")»',
    "opening_letter": rf"{_UPPER}“\"«",
    "number_then": rf"\.\s+[{_UPPER}“\"«(]",
}

FRENCH = LanguageRules(
    code="fr",
    name="French",
    # "Rappelant", "Se félicitant", "S’inquiétant", "Conscient", "Vivement préoccupé", "Ayant
    # examiné", "Guidé par": a present participle or an adjective of attitude, capitalised.
    preamble=(
        rf"(?:(?:Se|S’|S') ?[{_LOWER}]*[{_LOWER}]+ant|[{_UPPER}][{_LOWER}]+ant"
        rf"|(?:[{_UPPER}][{_LOWER}]+ment|Très|Profondément|Vivement) [{_LOWER}]+(?:é|ée|és)"
        r"|Conscient|Convaincu|Préoccupé|Résolu|Déterminé|Alarmé|Inquiet|Guidé|Attaché|Décidé"
        r"|Soucieux|Désireux|Notant|Ayant|Rappelant|Réaffirmant)(?![\w’'])"
    ),
    **_LATIN_CAPITALS,
    joining_words=frozenset(["et", "ou", "de", "du", "des", "par", "avec", "entre"]),
    joining_only=r"[-–\s]*(?:(?:par\s+)?(?:et\s+)?entre|et)[-–:\s]*",
    reference_words=frozenset(
        [
            *("paragraphe", "paragraphes", "résolution", "résolutions", "article", "articles"),
            *("section", "chapitre", "annexe", "règle", "point", "points", "no", "nº", "n°"),
            *("et", "ou", "à", "de", "du", "des", "au", "aux", "page", "pages", "décision"),
        ]
    ),
    abbreviations=frozenset({"no", "nos", "p", "pp", "art", "par", "al", "vol", "cf", "etc"}),
    keep_hyphen_before=frozenset({"et", "ou", "à", "de", "le", "la", "les", "du", "des"}),
    operative=_words(
        *("Décide", "Prie", "Demande", "Exige", "Condamne", "Réaffirme", "Rappelle"),
        *("Souligne", "Se félicite", "Salue", "Engage", "Exhorte", "Invite", "Encourage"),
        *("Prend note", "Recommande", "Autorise", "Approuve", "Réitère", "Insiste"),
        *("Reconnaît", "Déclare", "Exprime", "Appelle", "Affirme", "Souscrit", "Proroge"),
    ),
    stopwords=frozenset(["de", "la", "le", "les", "des", "et", "du", "à", "en", "que"]),
)

SPANISH = LanguageRules(
    code="es",
    name="Spanish",
    # "Recordando", "Acogiendo con beneplácito", "Poniendo de relieve", "Consciente",
    # "Profundamente preocupado", "Habiendo examinado", "Guiado por".
    preamble=(
        rf"(?:[{_UPPER}][{_LOWER}]+(?:ando|iendo|yendo)"
        rf"|(?:[{_UPPER}][{_LOWER}]+mente) [{_LOWER}]+(?:ado|ada|ados|ido|ida|idos)"
        r"|Consciente|Convencido|Preocupado|Decidido|Resuelto|Alarmado|Guiado|Deseoso"
        r"|Observando|Habiendo|Recordando|Reafirmando)(?!\w)"
    ),
    **_LATIN_CAPITALS,
    page_words=("página", "pág"),
    joining_words=frozenset(["y", "o", "de", "del", "por", "con", "entre"]),
    joining_only=r"[-–\s]*(?:(?:por\s+)?(?:y\s+)?entre|y)[-–:\s]*",
    reference_words=frozenset(
        [
            *("párrafo", "párrafos", "resolución", "resoluciones", "artículo", "artículos"),
            *("sección", "capítulo", "anexo", "regla", "tema", "núm", "núm.", "no", "no."),
            *("y", "o", "a", "de", "del", "en", "página", "páginas", "decisión"),
        ]
    ),
    abbreviations=frozenset({"núm", "no", "párr", "art", "arts", "pág", "págs", "vol", "cf"}),
    keep_hyphen_before=frozenset({"y", "o", "a", "de", "el", "la", "los", "las", "del"}),
    operative=_words(
        *("Decide", "Solicita", "Pide", "Exige", "Condena", "Reafirma", "Recuerda", "Subraya"),
        *("Destaca", "Acoge con beneplácito", "Celebra", "Exhorta", "Insta", "Alienta"),
        *("Invita", "Toma nota", "Recomienda", "Autoriza", "Aprueba", "Reitera", "Reconoce"),
        *("Declara", "Expresa", "Afirma", "Encomia", "Prorroga"),
    ),
    stopwords=frozenset(["de", "la", "el", "los", "las", "y", "del", "en", "que", "su"]),
)

# Verbal adverbs: "подтверждая", "приветствуя", "определяя", "ссылаясь", and the perfective
# ones the resolutions use; not "касающиеся", a participle.
_RU_GERUND = r"(?:[а-яё]+[аяуюе]я(?:сь)?|[а-яё]+вши(?:сь)?|рассмотрев|проведя|приняв|заслушав)"
RUSSIAN = LanguageRules(
    code="ru",
    name="Russian",
    # A preambular paragraph opens in lower case on a verbal adverb ("ссылаясь",
    # "подтверждая", "рассмотрев"), maybe after an adverb ("вновь подтверждая", "особо
    # отмечая", "с удовлетворением отмечая"), or on "будучи".
    preamble=(
        rf"(?:(?:[а-яё]+о|вновь|с [а-яё]+ью|с [а-яё]+ием|с [а-яё]+ой [а-яё]+ью) )?"
        r"(?!(?:включая|начиная|несмотря|исходя|благодаря|судя)(?![а-яё]))"
        rf"(?:{_RU_GERUND}|будучи)(?![а-яё])"
    ),
    # Inside a flattened line the same words also open clauses of one paragraph ("...,
    # приветствуя ..."), and no capital tells them apart: only the openings that more often
    # start a preambular paragraph than continue one, also after "с" and a noun ("с
    # удовлетворением отмечая", "с глубокой обеспокоенностью отмечая").
    inline_preamble=r"(?:с (?:[а-яё]+ой )?[а-яё]+(?:ью|ием|ем) )?"
    + _words(
        *("будучи", "вновь", "воздавая", "выражая", "высказываясь", "высоко", "действуя"),
        *("заявляя", "констатируя", "напоминая", "обращая", "одобряя", "определяя", "особо"),
        *("осуждая", "откликаясь", "отмечая", "памятуя", "поддерживая", "подтверждая"),
        *("подчеркивая", "поощряя", "приветствуя", "признавая", "призывая", "принимая"),
        *("рассмотрев", "решительно", "руководствуясь", "ссылаясь", "учитывая"),
        *("акцентируя", "отдавая", "повторяя", "сознавая"),
    ),
    sentence_ends='.;:!?”")»',
    # Sections are lettered in Latin capitals ("B. Оружейное эмбарго").
    opening_letter='а-яёА-ЯЁA-Z«"',
    capitals="A-ZА-ЯЁ",
    number_then=r"\.\s+[а-яёА-ЯЁ«\"(]",
    item_letters="а-яa-z",
    page_words=("стр", "страница"),
    joining_words=frozenset(["и", "или", "между", "с", "со"]),
    reference_words=frozenset(
        [
            *("пункт", "пункта", "пункте", "пунктах", "пунктов", "пунктами", "резолюция"),
            *("резолюции", "резолюций", "статья", "статьи", "статье", "раздел", "раздела"),
            *("приложение", "приложения", "правило", "правила", "№", "и", "или", "в", "к"),
        ]
    ),
    abbreviations=frozenset({"ст", "п", "пп", "стр", "см", "т", "г", "гг", "№"}),
    keep_hyphen_before=frozenset({"и", "или"}),
    stopwords=frozenset(["и", "в", "на", "по", "с", "о", "что", "для", "его", "к"]),
)

ARABIC = LanguageRules(
    code="ar",
    name="Arabic",
    # "إذ يشير" (recalling) opens the first preambular paragraph, "وإذ يؤكد" the others;
    # "وقد نظر" (having considered) some.
    preamble=r"(?:و?إذ|وقد) [يأت]\S+",
    # Inside a flattened line "، وإذ يشدد" also opens a clause of one paragraph: after "إذ"
    # (the first preambular paragraph) any verb, after "وإذ" the verbs that more often open a
    # preambular paragraph than continue one.
    inline_preamble=(
        r"(?:إذ [يأت]\S+|وقد نظر|وإذ (?:"
        + _arabic_words(
            *("يؤكد", "يؤيد", "يتصرف", "يثني", "يجدد", "يحيط", "يدين", "يرحب", "يرى", "يساوره"),
            *("يستجيب", "يسلط", "يسلم", "يشيد", "يشير", "يضع", "يعترف", "يعرب", "يعيد", "يقرر"),
            "ينوه",
        )
        + r"))(?!\S)"
    ),
    sentence_ends='.;:!?؛؟”")',
    commas=",،",
    number_then=r"\s[-–]\s+[\u0600-\u06FF“\"«(]",
    opening_letter='\u0600-\u06ff“"«',
    item_letters="\u0621-\u064a",
    # "1 - يقرر", lettered items "أ - " besides "(أ)", and numbered sub-items "’1‘" (quotes
    # that a right-to-left text shows either way round).
    extra_number=(
        r"(?P<dash>\d{1,3})\s?[-–]|(?P<dashitem>[\u0621-\u064a])\s[-–]"
        r"|(?P<quoteditem>[‘’]\d{1,2}[‘’])"
    ),
    # Arabic resolutions set each lettered or numbered item of a list as its own paragraph.
    inline_item=r"\((?:[\u0621-\u064a]{1,2}|\d{1,2})\)|[‘’]\d{1,2}[‘’]|[\u0621-\u064a] [-–]|[-–•]",
    page_words=("الصفحة",),
    joining_words=frozenset(["بين", "أو"]),
    has_case=False,
    reference_words=frozenset(["الفقرة", "الفقرات", "القرار", "القرارات", "المادة", "المرفق"]),
    stopwords=frozenset(["في", "من", "على", "إلى", "أن", "التي", "الذي", "عن", "مع"]),
)

CHINESE = LanguageRules(
    code="zh",
    name="Chinese",
    # The preambular verbs ("回顾", "重申", "表示", "强调", "欢迎", "认识到") are words like any
    # other and no space sets them apart inside a line; what opens a preambular paragraph is a
    # new line, or in a flattened line the space after a comma (``space_separates``).
    preamble=r"(?!)",
    sentence_ends='.;:!?。；：！？”")',
    commas=",，",
    number_then=r"\.\s*[\u3400-\u9fff“\"《(（]",
    opening_letter='\u3400-\u9fff“"《',
    page_words=("页",),
    reference_words=frozenset(["第"]),
    space_separates=True,
    has_case=False,
)

LANGUAGES: dict[str, LanguageRules] = {
    rules.code: rules for rules in (ENGLISH, FRENCH, SPANISH, RUSSIAN, ARABIC, CHINESE)
}


def rules_for(language: str) -> LanguageRules:
    """The rules of a language given by its code ("fr") or English name ("French")."""
    key = language.strip().lower()
    for rules in LANGUAGES.values():
        if key in (rules.code, rules.name.lower()):
            return rules
    known = ", ".join(f"{r.code} ({r.name})" for r in LANGUAGES.values())
    raise ValueError(f"unknown language {language!r}; known: {known}")


_SAMPLE_CHARS = 2000
_SCRIPTS = {
    "ar": re.compile("[\u0600-\u06ff]+"),
    "zh": re.compile("[\u3400-\u9fff]+"),
    "ru": re.compile("[\u0400-\u04ff]+"),
    "latin": re.compile("[A-Za-z\u00c0-\u024f]+"),
}
_LATIN_LANGUAGES = ("en", "fr", "es")


def detect_language(text: str) -> str:
    """The code of the language a text is written in, from its first 2,000 characters: the
    script tells Arabic, Chinese and Russian; the commonest short words tell English, French
    and Spanish apart. English when nothing tells (no letters at all)."""
    sample = text[:_SAMPLE_CHARS]
    # Characters of each script, counted by what removing them takes away (fast, in C).
    letters = {name: len(sample) - len(p.sub("", sample)) for name, p in _SCRIPTS.items()}
    script = max(letters, key=lambda name: (letters[name], name == "latin"))
    if script != "latin":
        return script
    words = Counter(sample.lower().split())  # the short words stand between spaces
    scores = {code: sum(words[w] for w in LANGUAGES[code].stopwords) for code in _LATIN_LANGUAGES}
    return max(scores, key=lambda code: (scores[code], code == "en"))


class _HasLanguage(Protocol):
    language: str


_D = TypeVar("_D", bound=_HasLanguage)


def main_language(docs: Iterable[_HasLanguage]) -> str:
    """The language most of the documents are in (what a model is trained on)."""
    counts = Counter(doc.language for doc in docs)
    return counts.most_common(1)[0][0] if counts else "en"


def warn_other_language(docs: Iterable[_D], trained: str | None) -> Iterator[_D]:
    """The documents, passed through, with a warning at the first document of each language
    other than ``trained`` (the model's training language; None: nothing is said). A model
    learns its training language's words: on another language its suggestions are poorer,
    and the user should hear it rather than see quality drop in silence. The message names
    the languages only, so that Python shows it once however many batches repeat it."""
    warned = set()
    for doc in docs:
        if trained is not None and doc.language != trained and doc.language not in warned:
            warned.add(doc.language)
            given, learned = rules_for(doc.language).name, rules_for(trained).name
            warnings.warn(
                f"{given} documents given to a model trained on {learned} documents: its "
                f"suggestions for them may be poor; train a model on {given} documents",
                stacklevel=2,
            )
        yield doc
