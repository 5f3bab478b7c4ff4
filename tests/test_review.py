"""The review app over its JSON API (Starlette's test client) and its parts: the labels file,
the order of the documents, the explanations, the command line."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_data import LABEL, write_collection, write_pdf_collection

from unclf.documents import read_labelled
from unclf.model import RankedDocument, ScoredParagraph, TargetSelector
from unclf.persistence import default_model_path
from unclf.review.app import create_app
from unclf.review.explain import _feature_names, explain
from unclf.review.ordering import WARM_START, margin, put_in_order, typicality
from unclf.review.serve import open_session
from unclf.review.store import LabelStore
from unclf.segmenter import Paragraph, parse_many


@pytest.fixture()
def collection(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    return write_collection(tmp_path)


def _client(collection_path: Path, labels: Path, model: Path | None = None, **kwargs):
    session = open_session(
        [str(collection_path)], str(labels), LABEL, None if model is None else str(model)
    )
    app = create_app(session, hosts=("testserver",), rank_on_start=False, **kwargs)
    return TestClient(app), session


def _wait_for_training(client: TestClient, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get("/api/train").json()
        if state["status"] != "running":
            return state
        time.sleep(0.2)
    raise AssertionError("training did not finish")


# --- the loop: label three documents, retrain, see the suggestion change ----------------------


def test_label_three_retrain_and_the_suggestion_changes(collection, tmp_path):
    path, targets = collection
    labels = tmp_path / "labels.jsonl"
    client, _ = _client(path, labels, default_model_path())
    with client:
        unseen = "report-08"
        before = client.get(f"/api/documents/{unseen}").json()
        assert before["candidates"][0] != targets[unseen]  # the example model knows no water

        for doc_id in ("report-01", "report-02", "report-03"):
            response = client.post("/api/labels", json={"id": doc_id, "targets": [targets[doc_id]]})
            assert response.status_code == 200, response.text
        assert (
            client.post("/api/labels", json={"id": "report-04", "targets": []}).status_code == 200
        )

        assert client.post("/api/train").status_code == 202
        state = _wait_for_training(client)
        assert state["status"] == "ready", state
        assert state["new_figure"]["hit@1"] is not None
        assert "each by a model trained without it" in state["new_figure"]["how"]
        assert state["old_figure"]["how"].startswith("on your answered documents")
        used = client.post("/api/train/use").json()
        assert Path(used["model"]).exists()

        after = client.get(f"/api/documents/{unseen}").json()
        assert after["candidates"][0] == targets[unseen]
        chosen = after["paragraphs"][targets[unseen]]
        assert chosen["rank"] == 1
        assert chosen["score"] > before["paragraphs"][targets[unseen]]["score"]
        assert any("water" in w["words"] for w in after["why"]["words"])
        # the answered documents now come last in the list
        order = [d["id"] for d in client.get("/api/documents").json()]
        assert order[-4:] == ["report-01", "report-02", "report-03", "report-04"]

    # the labels file, tidied on the way out, is what ``unclf train`` reads
    docs, _ = read_labelled(labels, label=LABEL)
    assert [d.id for d in docs] == ["report-01", "report-02", "report-03", "report-04"]
    assert [len(d.targets) for d in docs] == [1, 1, 1, 0]


def test_training_needs_answers_and_says_so(collection, tmp_path):
    path, targets = collection
    client, _ = _client(path, tmp_path / "labels.jsonl")
    with client:
        client.post("/api/labels", json={"id": "report-01", "targets": [targets["report-01"]]})
        client.post("/api/train")
        state = _wait_for_training(client)
        assert state["status"] == "failed"
        assert "needs at least 2 answered documents" in state["message"]
        assert client.post("/api/train/use").status_code == 409
        assert client.post("/api/predict", json={"text": "a text"}).status_code == 409


# --- the JSON API -----------------------------------------------------------------------------


def test_api_document_paragraphs_offsets_and_predict(collection, tmp_path):
    path, _ = collection
    client, _ = _client(path, tmp_path / "labels.jsonl", default_model_path())
    text = json.loads(path.read_text().splitlines()[0])["text"]
    with client:
        doc = client.get("/api/documents/report-01").json()
        for p in doc["paragraphs"]:
            assert p["text"].split()[0] in text[p["start"] : p["end"]]
        assert doc["paragraphs"][0]["page"] is None  # text, not a PDF
        ranked = client.post("/api/predict", json={"text": text, "top_k": 2}).json()
        assert len(ranked["paragraphs"]) == 2
        assert ranked["paragraphs"][0]["score"] >= ranked["paragraphs"][1]["score"]
        as_file = client.post(
            "/api/predict", content=text.encode(), headers={"content-type": "text/plain"}
        ).json()
        assert as_file["paragraphs"][0] == ranked["paragraphs"][0]
        assert client.post("/api/predict", content=b"\xff\xfe", headers={}).status_code == 415
        for body, detail in (
            (b'{"text": 5}', "text: Input should be a valid string"),
            (b'{"text": "x"', "body: Invalid JSON"),
            (b'{"text": "x", "top_k": -1}', "top_k: Input should be greater than or equal to 0"),
        ):
            refused = client.post(
                "/api/predict", content=body, headers={"content-type": "application/json"}
            )
            assert refused.status_code == 422 and refused.json()["detail"].startswith(detail)
        docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        refused = client.post("/api/predict", content=b"PK", headers={"content-type": docx_type})
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("the posted file cannot be read: damaged")
        spec = client.get("/openapi.json").json()
        assert {"/api/documents", "/api/labels", "/api/train", "/api/predict"} <= set(spec["paths"])
        assert client.get("/docs").status_code == 404  # it would load scripts from a CDN


def test_marks_from_two_tabs_add_up(collection, tmp_path):
    path, _ = collection
    client, _ = _client(path, tmp_path / "labels.jsonl")
    with client:
        first = client.post("/api/labels", json={"id": "report-01", "add": [1]}).json()
        second = client.post("/api/labels", json={"id": "report-01", "add": [3]}).json()
        assert first["targets"] == [1] and second["targets"] == [1, 3] and second["answered"]
        removed = client.post("/api/labels", json={"id": "report-01", "remove": [1]}).json()
        assert removed["targets"] == [3]
        for body in ({"id": "report-01"}, {"id": "report-01", "targets": [1], "add": [2]}):
            refused = client.post("/api/labels", json=body)
            assert refused.status_code == 422 and "add and remove" in refused.json()["detail"]


def test_export_csv_marks_what_was_reviewed(collection, tmp_path):
    path, targets = collection
    client, _ = _client(path, tmp_path / "labels.jsonl", default_model_path())
    with client:
        client.post("/api/labels", json={"id": "report-02", "targets": [targets["report-02"]]})
        lines = client.get("/export.csv").text.splitlines()
    assert lines[0] == "document,label,paragraph,number,page,text,score,reviewed"
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert len(rows) == 8
    assert (
        rows["report-02"].endswith(",yes") and f",{targets['report-02'] + 1}," in rows["report-02"]
    )
    assert rows["report-01"].endswith(",no")


# --- safety -----------------------------------------------------------------------------------


def test_only_the_collections_documents_are_served(collection, tmp_path):
    path, _ = collection
    client, _ = _client(path, tmp_path / "labels.jsonl")
    with client:
        for url in (
            "/api/documents/../../etc/passwd",
            "/documents/%2Fetc%2Fpasswd",
            "/api/documents/" + str(path),
            "/static/../app.py",
        ):
            assert client.get(url).status_code == 404, url
        bad = client.post("/api/labels", json={"id": "report-01", "targets": [99]})
        assert bad.status_code == 422 and "no paragraph at position 99" in bad.json()["detail"]
        assert client.post("/api/labels", json={"id": "nope", "targets": []}).status_code == 404


def test_writes_from_another_site_and_foreign_hosts_are_refused(collection, tmp_path):
    path, _ = collection
    labels = tmp_path / "labels.jsonl"
    client, _ = _client(path, labels)
    answer = {"id": "report-01", "targets": []}
    with client:
        assert (
            client.post(
                "/api/labels", json=answer, headers={"Origin": "http://evil.test"}
            ).status_code
            == 403
        )
        cross = client.post("/api/labels", json=answer, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        assert client.get("/", headers={"Host": "evil.test"}).status_code == 421
        assert not labels.exists() or "report-01" not in labels.read_text()
        own = client.post("/api/labels", json=answer, headers={"Origin": "http://testserver"})
        assert own.status_code == 200


def test_uploads_are_capped(collection, tmp_path):
    path, _ = collection
    client, _ = _client(path, tmp_path / "labels.jsonl", default_model_path(), max_upload=1000)
    with client:
        big = b"x " * 1000
        sized = client.post("/api/predict", content=big, headers={"content-type": "text/plain"})
        assert sized.status_code == 413

        def chunks():  # no Content-Length: counted as it arrives
            yield from (big[i : i + 100] for i in range(0, len(big), 100))

        streamed = client.post(
            "/api/predict", content=chunks(), headers={"content-type": "text/plain"}
        )
        assert streamed.status_code == 413


def test_not_this_one_is_written_and_never_suggested_again(collection, tmp_path):
    path, targets = collection
    labels = tmp_path / "labels.jsonl"
    client, session = _client(path, labels, default_model_path())
    with client:
        first = client.get("/api/documents/report-05").json()["candidates"][0]
        assert first != targets["report-05"]  # the example model knows no water
        state = client.post("/api/rejections", json={"id": "report-05", "paragraph": first}).json()
        assert state == {
            "id": "report-05",
            "label": LABEL,
            "targets": [],
            "rejected": [first],
            "answered": False,
        }
        view = client.get("/api/documents/report-05").json()
        assert first not in view["candidates"] and view["paragraphs"][first]["is_rejected"]
        page = client.get("/documents/report-05")  # the page says so, by the paragraph's name
        name = view["paragraphs"][first]["name"]
        assert page.status_code == 200 and f"Not the target: {name}." in page.text
        assert not view["answered"]
        row = next(r for r in client.get("/api/documents").json() if r["id"] == "report-05")
        assert row["rejected"] == 1 and not row["answered"]
        assert "1 suggestion rejected" in client.get("/").text
        # on disk at once, and left out of training until the document is answered
        [record] = [json.loads(line) for line in labels.read_text().splitlines()]
        assert record["answered"] == [] and record["targets"] == []
        assert len(record["rejected"]) == 1
        client.post("/api/labels", json={"id": "report-01", "targets": [targets["report-01"]]})
        session.store.tidy()  # as when the server stops: one line per document
        with pytest.warns(UserWarning, match="1 document not answered for 'Water' left out"):
            docs, _ = read_labelled(labels, label=LABEL)
        assert [d.id for d in docs] == ["report-01"]
        # picking the target answers it; the rejection stays beside it
        picked = {"id": "report-05", "targets": [targets["report-05"]]}
        assert client.post("/api/labels", json=picked).json()["rejected"] == [first]
        session.store.tidy()
        docs, _ = read_labelled(labels, label=LABEL)
        assert [d.id for d in docs] == ["report-05", "report-01"]
        # rejecting the only target takes the answer back: not this one is not none here
        undo = {"id": "report-05", "paragraph": targets["report-05"]}
        assert client.post("/api/rejections", json=undo).json()["answered"] is False
        bad = client.post("/api/rejections", json={"id": "report-05", "paragraph": 99})
        assert bad.status_code == 422


def test_a_pdf_is_shown_on_its_pages_with_its_paragraphs_boxes(tmp_path):
    folder, targets = write_pdf_collection(tmp_path)
    doc_id = sorted(targets)[0]
    text_doc = tmp_path / "plain.txt"
    text_doc.write_text("A plain text document.\n\nIts second paragraph.\n")
    session = open_session(
        [str(folder), str(text_doc)],
        str(tmp_path / "labels.jsonl"),
        LABEL,
        str(default_model_path()),
    )
    client = TestClient(create_app(session, hosts=("testserver",), rank_on_start=False))
    with client:
        view = client.get(f"/api/documents/{doc_id}").json()
        [page] = view["pages"]
        assert page["page"] == 1 and round(page["width"]) == 595 and round(page["height"]) == 842
        target = view["paragraphs"][targets[doc_id]]
        assert target["page"] == 1 and target["text"].startswith("Ensure access")
        [box] = target["boxes"]
        assert 0 < box["left"] < box["left"] + box["width"] <= page["width"]
        assert 0 < box["top"] < box["top"] + box["height"] <= page["height"]
        image = client.get("/api/page", params={"id": doc_id, "page": 1})
        assert image.headers["content-type"] == "image/png"
        from PIL import Image

        shown = Image.open(io.BytesIO(image.content))
        assert shown.size == (round(595.28 * 1.5), round(841.89 * 1.5))
        assert client.get("/api/page", params={"id": doc_id, "page": 2}).status_code == 404
        assert client.get("/api/page", params={"id": str(text_doc), "page": 1}).status_code == 404
        assert client.get("/api/page", params={"id": "/etc/passwd", "page": 1}).status_code == 404
        html = client.get(f"/documents/{doc_id}").text
        assert html.count('class="box') == sum(len(p["boxes"]) for p in view["paragraphs"])
        assert html.count("box suggested") == len(
            view["paragraphs"][view["candidates"][0]]["boxes"]
        )
        assert 'id="suggested-text"' in html
        plain = client.get(f"/documents/{text_doc}").text
        assert 'class="box' not in plain and 'class="paragraph' in plain
        client.post("/api/labels", json={"id": doc_id, "targets": [targets[doc_id]]})
        rows = list(csv.DictReader(io.StringIO(client.get("/export.csv").text)))
        [row] = [r for r in rows if r["document"] == doc_id]
        assert (row["page"], row["reviewed"]) == ("1", "yes")
        # a platform posts a PDF file: its paragraphs come with their page and boxes
        pdf_type = {"content-type": "application/pdf"}
        posted = client.post("/api/predict", content=Path(doc_id).read_bytes(), headers=pdf_type)
        assert posted.status_code == 200, posted.text
        assert all(p["page"] == 1 and p["boxes"] for p in posted.json()["paragraphs"])
        damaged = client.post("/api/predict", content=b"%PDF-1.4 cut short", headers=pdf_type)
        assert damaged.status_code == 422
        assert damaged.json()["detail"].startswith("the posted file cannot be read: damaged PDF")
        # a PDF moved away since the review started: its text is still shown, no page image
        Path(doc_id).rename(tmp_path / "moved.pdf")
        session._pages.clear()
        assert 'class="paragraph' in client.get(f"/documents/{doc_id}").text
        assert client.get("/api/page", params={"id": doc_id, "page": 1}).status_code == 404


# --- the labels file --------------------------------------------------------------------------


def test_labels_file_resumes_later_answers_win_and_other_labels_stay(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    store.answer("a", "one two", "Water", [(0, 3)])
    store.answer("a", "one two", "Health", [(4, 7)])
    store.answer("a", "one two", "Water", [])  # changed mind: none here
    assert len(path.read_text().splitlines()) == 3  # one line per answer, appended
    again = LabelStore(path)
    assert again.answers["a"].answered == ["Health", "Water"]
    assert again.answers["a"].spans("Water") == []
    assert [(t.start, t.end) for t in again.answers["a"].spans("Health")] == [(4, 7)]
    assert len(path.read_text().splitlines()) == 1  # tidied when opened
    assert again.training_data("Water") == (["a"], ["one two"], [[]])


def test_unclf_train_reads_what_was_answered_for_its_label(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    store.answer("water", "one two", "Water", [(0, 3)])
    store.answer("health", "one two", "Health", [(4, 7)])  # never looked at for Water
    store.reject("torn", "one two", "Water", (0, 3))  # not this one, and no answer yet
    with pytest.warns(UserWarning, match="2 documents not answered for 'Water' left out"):
        docs, _ = read_labelled(path, label="Water")
    assert [d.id for d in docs] == ["water"]
    path.write_text(
        '{"id": "x", "text": "one", "targets": [], "answered": "Water"}\n'
        '{"id": "y", "text": "one", "targets": [], "answered": 3}\n'
    )
    docs, invalid = read_labelled(path, skip_invalid=True)
    assert [d.id for d in docs] == ["x"]
    assert invalid[0].message == "answered must be a list of label names (strings)"


def test_answers_on_a_changed_text_are_found_again_or_dropped_with_a_warning(tmp_path):
    store = LabelStore(tmp_path / "labels.jsonl")
    store.answer("a", "one two three", "Water", [(4, 7)])
    store.answer("a", "one two three", "Health", [(8, 13)])
    store.reject("a", "one two three", "Health", (0, 3))
    # read again by a newer reader: a line more on top, "three" spelled otherwise
    new = "Cover\none two 3"
    with pytest.warns(UserWarning, match="text changed since it was answered; 1 earlier mark"):
        answer = store.answer("a", new, "Food", [(0, 5)])
    assert answer.text == new
    assert [(new[t.start : t.end], t.label) for t in answer.targets] == [
        ("Cover", "Food"),
        ("two", "Water"),
    ]
    assert answer.answered == ["Water", "Food"]  # Health's target is lost: not answered
    assert [(new[t.start : t.end], t.label) for t in answer.rejected] == [("one", "Health")]
    assert LabelStore(store.path).answers["a"] == answer


def test_a_line_cut_short_by_a_crash_is_left_out_and_the_next_answer_is_whole(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    store.answer("a", "text a", "Water", [(0, 4)])
    with open(path, "a") as handle:
        handle.write('{"id": "b", "text": "tex')  # killed mid-write: never acknowledged
    store.answer("c", "text c", "Water", [])
    with pytest.warns(UserWarning, match="labels.jsonl:2: unreadable answer left out"):
        again = LabelStore(path)
    assert sorted(again.answers) == ["a", "c"]


def test_two_tabs_answering_at_once_lose_nothing(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path)
    labels = [f"label-{k}" for k in range(4)]

    def tab(k: int) -> None:
        for n in range(10):
            store.reject(f"doc-{n}", f"text {n}", labels[k], (5, 6))
            store.answer(f"doc-{n}", f"text {n}", labels[k], [(0, 4)])

    threads = [threading.Thread(target=tab, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = LabelStore(path)
    assert len(again.answers) == 10
    for answer in again.answers.values():
        assert sorted(answer.answered) == labels
        assert len(answer.targets) == 4 and len(answer.rejected) == 4


def test_use_and_keep_clicked_together_settle_on_one(collection, tmp_path, monkeypatch):
    import unclf.review.session as session_module
    from unclf.review.session import TrainingState

    _, session = _client(collection[0], tmp_path / "labels.jsonl", default_model_path())
    candidate = session.model
    session.model = None
    session.model_out = tmp_path / "new.unclf"
    session.training = TrainingState(status="ready", candidate=candidate, trained_on=["f"])
    save = session_module.save_model

    def slow_save(*args, **kwargs):  # a slow disk: "keep" is clicked while "use" saves
        time.sleep(0.3)
        return save(*args, **kwargs)

    monkeypatch.setattr(session_module, "save_model", slow_save)
    monkeypatch.setattr(session, "rank_collection", lambda: None)
    using = threading.Thread(target=session.use_new_model)
    using.start()
    time.sleep(0.1)
    session.keep_current_model()
    with pytest.raises(ValueError, match="no retrained model is waiting"):
        session.use_new_model()
    using.join()
    assert session.model is candidate and session.training.status == "done"
    assert session.model_trained_on == {"f"}
    session.close()


def test_list_view_and_export_agree_on_an_answer_to_a_changed_text(collection, tmp_path):
    _, session = _client(collection[0], tmp_path / "labels.jsonl")
    doc_id = next(iter(session.documents))
    session.store.answer(doc_id, "Zebra crossings, an older reading.", LABEL, [(0, 5)])
    with pytest.warns(UserWarning, match="text changed since it was answered"):
        listed = {row["id"]: row for row in session.order()}
        view = session.view(doc_id)
        exported = [row for row in session.export_rows() if row["document"] == doc_id]
    assert listed[doc_id]["answered"] is False and listed[doc_id]["targets"] is None
    assert not view.answered
    assert [row["reviewed"] for row in exported] == [False] * len(exported)
    session.close()


def test_a_model_that_cannot_be_saved_still_waits(collection, tmp_path, monkeypatch):
    from unclf.review.session import TrainingState

    client, session = _client(collection[0], tmp_path / "labels.jsonl", default_model_path())
    candidate = session.model
    session.model_out = tmp_path / "no such folder" / "new.unclf"
    session.training = TrainingState(status="ready", candidate=candidate)
    monkeypatch.setattr(session, "rank_collection", lambda: None)
    with client:
        refused = client.post("/api/train/use")
        assert refused.status_code == 507
        assert refused.json()["detail"].startswith("the model could not be saved: ")
        assert session.training.status == "ready" and session.training.candidate is candidate
        session.model_out = tmp_path / "new.unclf"
        assert client.post("/api/train/use").status_code == 200
    assert session.training.status == "done" and session.model_out.exists()
    session.close()


def test_the_current_models_figure_leaves_out_what_it_was_trained_on(collection, tmp_path):
    from unclf.persistence import document_fingerprints

    _, session = _client(collection[0], tmp_path / "labels.jsonl", default_model_path())
    texts = ["1. The first report.\n\n2. Water for all.", "1. Another.\n\n2. Water again."]
    targets = [[(t.index("2."), len(t))] for t in texts]
    assert session._current_figure(texts, targets)["documents"] == 2
    session.model_trained_on = frozenset(document_fingerprints(texts[:1]))
    figure = session._current_figure(texts, targets)
    assert figure["documents"] == 1 and "(1 it was trained on left out)" in figure["how"]
    session.model_trained_on = frozenset(document_fingerprints(texts))
    assert session._current_figure(texts, targets)["hit@1"] is None
    session.close()


# --- order and explanation --------------------------------------------------------------------


def _ranked(*scores: float) -> RankedDocument:
    paragraph = Paragraph(0, 0, 1, "x", None, "paragraph", None)
    return RankedDocument([ScoredParagraph(paragraph, s, False) for s in scores])


def test_each_order_puts_the_documents_as_it_says():
    rankings = {"sure": _ranked(0.95, 0.1), "torn": _ranked(0.5, 0.45), "flat": _ranked(0.1, 0.05)}
    ids = ["sure", "new", "torn", "flat"]
    assert margin(rankings["torn"]) == pytest.approx(0.05)
    assert put_in_order("least-sure", ids, rankings) == ["torn", "flat", "sure", "new"]
    assert put_in_order("most-likely", ids, rankings) == ["sure", "torn", "flat", "new"]
    shuffled = put_in_order("random", ids, rankings)
    assert sorted(shuffled) == sorted(ids)
    # The same order on every reload, and an answered document leaves the others' order alone.
    assert put_in_order("random", ids, {}) == shuffled
    assert put_in_order("random", [i for i in ids if i != shuffled[0]], {}) == shuffled[1:]
    assert put_in_order("warm-start", ids, rankings, answered=WARM_START - 1) == shuffled
    assert put_in_order("warm-start", ids, rankings, answered=WARM_START)[:3] == [
        "torn",
        "flat",
        "sure",
    ]
    # Density: a torn outlier gives way to a slightly surer typical document.
    typical = {"sure": 1.0, "torn": 0.01, "flat": 1.0}
    assert put_in_order("density", ids, rankings, typical=typical)[0] == "flat"
    with pytest.raises(ValueError, match="unknown order 'best'"):
        put_in_order("best", ids, rankings)


def test_typicality_is_low_for_an_outlier():
    texts = {
        "a": "drinking water and sanitation in rural areas",
        "b": "safe drinking water and sanitation for all",
        "c": "water supply and sanitation services in the provinces",
        "odd": "the electoral commission should be independent",
    }
    typical = typicality(texts)
    assert min(typical, key=typical.get) == "odd"
    assert all(0 <= x <= 1 for x in typical.values())


def test_explanation_names_every_input_of_the_ranker(collection):
    path, targets = collection
    records = [json.loads(line) for line in path.read_text().splitlines()]
    docs = list(parse_many(r["text"] for r in records))
    spans = [
        [(d.paragraphs[targets[r["id"]]].start, d.paragraphs[targets[r["id"]]].end)]
        for d, r in zip(docs, records, strict=True)
    ]
    model = TargetSelector(guard=False).fit(docs[:6], spans[:6])
    why = explain(model, docs[7], targets["report-08"])
    assert not any(name.startswith("feature ") for name, _ in why.features)
    assert len(why.features) == 8
    assert "water" in " ".join(w for w, _ in why.words)
    assert all(weight > 0 for _, weight in why.words)
    assert len(_feature_names(model)) == model.ranker_[-1].coef_.shape[1]


# --- the command line -------------------------------------------------------------------------


def test_review_command_refuses_what_it_cannot_use_in_one_line(tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "unclf.cli", "review", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )

    missing = run("nowhere.jsonl")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1] == (
        "unclf: error: nowhere.jsonl: no readable documents to review"
    )
    (tmp_path / "doc.txt").write_text("A paragraph.\n")
    (tmp_path / "bad.unclf").write_text("not a model")
    damaged = run("doc.txt", "--model", "bad.unclf")
    assert damaged.returncode == 2 and "Traceback" not in damaged.stderr
    assert damaged.stderr.startswith("unclf: error: bad.unclf")
    same = run("doc.txt", "--labels", "doc.txt")
    assert same.returncode == 2 and "is one of the documents to review" in same.stderr
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        busy = run("doc.txt", "--port", str(port))
    assert busy.returncode == 2
    assert (
        busy.stderr.strip()
        .splitlines()[-1]
        .startswith(f"unclf: error: cannot listen on 127.0.0.1:{port}")
    )
