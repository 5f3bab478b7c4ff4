"""The review pages in a real headless browser: Chromium and its driver from the
distribution's packages (/usr/bin/chromium, /usr/bin/chromedriver), driven by Selenium; nothing
is downloaded. One ``unclf review`` server for the module, over a tiny invented collection.

With ``UNCLF_SCREENSHOTS=docs`` the pages shown in docs/review.md are saved there as PNG files.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from review_data import LABEL, write_collection, write_pdf_collection

from unclf.persistence import default_model_path
from unclf.review.store import LabelStore

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
_MISSING = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
if _MISSING and os.environ.get("UNCLF_REQUIRE_BROWSER"):
    raise RuntimeError(f"UNCLF_REQUIRE_BROWSER is set but {', '.join(_MISSING)} is missing")
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"no {', '.join(_MISSING)}: apt-get install -y chromium chromium-driver",
)
WAIT = 120  # seconds: retraining on two shared cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    collection, targets = write_collection(folder)
    pdfs, pdf_targets = write_pdf_collection(folder, 1)
    [(pdf_path, pdf_target)] = pdf_targets.items()
    pdf_id = str(Path(pdf_path).relative_to(folder))  # the server runs in the folder
    labels = folder / "labels.jsonl"
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unclf.cli",
            "review",
            str(collection),
            pdfs.name,
            "--labels",
            str(labels),
            "--label",
            LABEL,
            "--model",
            str(default_model_path()),
            "--port",
            str(port),
        ],
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/documents", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"unclf review did not start: {process.stderr.read()}") from None
            time.sleep(0.3)
    yield {
        "url": url,
        "targets": targets,
        "pdf": (pdf_id, pdf_target),
        "labels": labels,
        "process": process,
    }
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1000,760",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _screenshot(browser, name: str) -> None:
    folder = os.environ.get("UNCLF_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    path = Path(folder) / f"review-{name}.png"
    browser.save_screenshot(str(path))
    # A palette of 64 colours: a page of text stays legible at a fraction of the size.
    Image.open(path).convert("RGB").quantize(64).save(path, optimize=True)


def _wait(browser, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition)


def _by_id(browser, element_id: str):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id)


def _answers(server) -> dict:
    return {k: v for k, v in LabelStore(server["labels"]).answers.items()}


def test_list_page_shows_every_document(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server["url"] + "/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#documents tbody tr")
    assert len(rows) == 9  # 8 reports given as text, one as a PDF
    assert "label: Water" in browser.find_element(By.TAG_NAME, "header").text
    _screenshot(browser, "documents")


def test_one_click_marks_a_target_and_it_is_on_disk(server, browser):
    targets = server["targets"]
    for doc_id in ("report-01", "report-02", "report-03"):
        browser.get(f"{server['url']}/documents/{doc_id}")
        _by_id(browser, f"p{targets[doc_id]}").click()
        _wait(browser, lambda b: _by_id(b, "status").text.startswith("Saved"))
        assert f"p{targets[doc_id]}" in [
            e.get_attribute("id") for e in browser.find_elements("css selector", ".target")
        ]
    target = _by_id(browser, f"p{targets['report-03']}")
    browser.execute_script("arguments[0].scrollIntoView({block: 'end'})", target)
    _screenshot(browser, "label")
    answers = _answers(server)
    for doc_id in ("report-01", "report-02", "report-03"):
        assert len(answers[doc_id].spans(LABEL)) == 1


def test_a_pdf_is_shown_on_its_page_and_a_click_on_a_box_marks_its_paragraph(server, browser):
    from selenium.webdriver.common.by import By

    doc_id, target = server["pdf"]
    browser.get(f"{server['url']}/documents/{doc_id}")
    image = browser.find_element(By.CSS_SELECTOR, "figure.page img")
    _wait(browser, lambda b: b.execute_script("return arguments[0].naturalWidth", image) > 0)
    assert not browser.find_elements(By.CSS_SELECTOR, "section.paragraph")  # the page, not text
    view = json.load(urllib.request.urlopen(f"{server['url']}/api/documents/{doc_id}"))
    chosen = view["candidates"][0]
    suggested = browser.find_elements(By.CSS_SELECTOR, ".box.suggested")
    assert {int(b.get_attribute("data-position")) for b in suggested} == {chosen}
    assert all(b.is_displayed() for b in suggested)
    shown = _by_id(browser, "suggested-text").text
    assert shown.split() == view["paragraphs"][chosen]["text"].split()
    # a box sits where its paragraph's words are: over the page image, inside it
    page = image.rect
    box = browser.find_element(By.CSS_SELECTOR, f'.box[data-position="{target}"]')
    assert (
        page["x"] <= box.rect["x"]
        and box.rect["y"] + box.rect["height"] <= page["y"] + page["height"]
    )
    box.click()
    name = view["paragraphs"][target]["name"]
    _wait(browser, lambda b: _by_id(b, "status").text == f"Saved: a target: {name}.")
    assert "target" in box.get_attribute("class")
    browser.execute_script("window.scrollTo(0, 0)")
    _screenshot(browser, "pdf")
    [span] = _answers(server)[doc_id].spans(LABEL)
    assert "drinking water" in _answers(server)[doc_id].text[span.start : span.end]


def test_not_this_one_is_written_and_keys_say_none_here(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{server['url']}/documents/report-04")
    first = browser.find_element(By.CSS_SELECTOR, "mark.suggested").find_element(By.XPATH, "..")
    rejected = int(first.get_attribute("data-position"))
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("n")
    _wait(browser, lambda b: _by_id(b, "candidate-rank").text == "2")
    view = json.loads(_by_id(browser, "view-data").get_attribute("textContent"))
    name = view["paragraphs"][rejected]["name"]
    _wait(browser, lambda b: _by_id(b, "status").text == f"Saved: not {name}.")
    assert "rejected" in first.get_attribute("class")
    answer = _answers(server)["report-04"]
    assert LABEL not in answer.answered  # not this one is not none here
    assert len(answer.rejected_spans(LABEL)) == 1
    view = json.load(urllib.request.urlopen(server["url"] + "/api/documents/report-04"))
    assert view["paragraphs"][rejected]["is_rejected"] and rejected not in view["candidates"]
    second_words = view["paragraphs"][view["candidates"][0]]["score_in_words"]
    assert _by_id(browser, "score-words").text == second_words
    second = browser.find_element(By.CSS_SELECTOR, "mark.suggested").find_element(By.XPATH, "..")
    assert second.get_attribute("id") != first.get_attribute("id")
    body.send_keys("0")
    _wait(browser, lambda b: _by_id(b, "status").text == "Saved: none here.")
    answer = _answers(server)["report-04"]
    assert LABEL in answer.answered and answer.spans(LABEL) == []


def test_retrain_compare_and_the_suggestion_changes(server, browser):
    from selenium.webdriver.common.by import By

    target = server["targets"]["report-08"]
    browser.get(f"{server['url']}/documents/report-08")
    before = browser.find_element(By.CSS_SELECTOR, "mark.suggested").find_element(By.XPATH, "..")
    assert before.get_attribute("id") != f"p{target}"  # the example model knows no water

    browser.get(server["url"] + "/training")
    _by_id(browser, "start-training").click()
    _wait(browser, lambda b: _by_id(b, "choose").is_displayed(), timeout=WAIT)
    assert _by_id(browser, "new-hit").text not in ("", "–")
    assert _by_id(browser, "old-hit").text not in ("", "–")
    _screenshot(browser, "retrain")
    _by_id(browser, "use-new").click()
    _wait(browser, lambda b: "new model is in use" in _by_id(b, "training-step").text)

    browser.get(f"{server['url']}/documents/report-08")
    after = browser.find_element(By.CSS_SELECTOR, "mark.suggested").find_element(By.XPATH, "..")
    assert after.get_attribute("id") == f"p{target}"
    marked = [b.text.lower() for b in after.find_elements(By.CSS_SELECTOR, "b.why-word")]
    assert "water" in " ".join(marked)
    assert browser.find_elements(By.CSS_SELECTOR, "#why-features li")
    browser.execute_script("arguments[0].scrollIntoView({block: 'end'})", after)
    _screenshot(browser, "suggestion")
    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    _wait(browser, lambda b: _by_id(b, "status").text.startswith("Saved: a target: "))


def test_two_tabs_answering_at_once_lose_nothing(server):
    def answer(doc_id: str) -> None:
        request = urllib.request.Request(
            server["url"] + "/api/labels",
            data=json.dumps({"id": doc_id, "targets": [server["targets"][doc_id]]}).encode(),
            headers={"Content-Type": "application/json", "Origin": server["url"]},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=60).close()

    tabs = [
        threading.Thread(target=answer, args=(doc_id,))
        for doc_id in ("report-05", "report-06", "report-07")
        for _ in range(4)
    ]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()
    answers = _answers(server)
    for doc_id in ("report-05", "report-06", "report-07"):
        assert len(answers[doc_id].spans(LABEL)) == 1


def test_the_server_listens_on_127_0_0_1_only(server):
    port = int(server["url"].rsplit(":", 1)[1])
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(OSError):  # another address of this machine: nobody listens there
        socket.create_connection(("127.0.0.2", port), timeout=5).close()


def test_a_killed_server_loses_no_acknowledged_answer(server):
    answered_before = _answers(server)
    process = server["process"]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    again = LabelStore(server["labels"])
    assert sorted(again.answered(LABEL)) == [
        server["pdf"][0],
        "report-01",
        "report-02",
        "report-03",
        "report-04",
        "report-05",
        "report-06",
        "report-07",
        "report-08",
    ]
    assert again.answers.keys() == answered_before.keys()
