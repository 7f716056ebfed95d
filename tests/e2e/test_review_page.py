"""The review page in headless Chromium against the real stack: import two questions (answered
by the real pipeline), rate them as two raters, watch the agreement panel, export the CSV."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import start_chromium
from tests.e2e.conftest import Stack
from tests.e2e.corpus import ingest, link_corpus

pytestmark = pytest.mark.e2e

QUESTIONS = [
    {"_id": "rv-rollback", "text": "How do I roll back a Deployment to a previous revision?"},
    {"_id": "rv-pod", "text": "What is a Pod?", "answer": "extra fields are ignored"},
]
# (helpfulness, accuracy, safety) per item, per rater
SCORES = {"ana": [(4, 5, 5), (2, 3, 5)], "bo": [(5, 5, 5), (1, 3, 4)]}


@pytest.fixture(scope="module")
def ingested(stack: Stack, k8s_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return ingest(stack, link_corpus(k8s_docs, tmp_path_factory.mktemp("corpus")))


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def browser(tmp_path: Path, downloads: Path):
    driver = start_chromium(tmp_path, downloads)
    yield driver
    driver.quit()


def _be(browser, rater: str) -> None:
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.ID, "rater-name")
    field.clear()
    field.send_keys(rater)
    browser.find_element(By.ID, "save-settings").click()


def _rate(browser, wait, rater: str) -> None:
    from selenium.webdriver.common.by import By

    _be(browser, rater)
    wait.until(lambda d: f"rated by {rater}" in d.find_element(By.ID, "status").text)
    items = browser.find_elements(By.CSS_SELECTOR, "#items article.item")
    assert len(items) == 2 and not [i for i in items if "rated" in i.get_attribute("class")]
    for item, scores in zip(items, SCORES[rater], strict=True):
        for dimension, score in zip(("helpfulness", "accuracy", "safety"), scores, strict=True):
            selector = f".scale[data-dimension={dimension}] input.score-{score}"
            item.find_element(By.CSS_SELECTOR, selector).click()
        item.find_element(By.CSS_SELECTOR, ".comment").send_keys(f'{rater}: fine, "quoted"')
        item.find_element(By.CSS_SELECTOR, "button.save").click()
        wait.until(lambda _, i=item: "saved" in i.find_element(By.CSS_SELECTOR, ".saved-state")
                   .get_attribute("class").split())  # fmt: skip


def test_review_page_import_rate_agree_export(
    stack: Stack, ingested: dict, browser, downloads: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    browser.get(stack.url + "/review?max_tokens=48")  # short answers: CPU generation is slow
    assert browser.title == "Docent review"
    wait = WebDriverWait(browser, 600, poll_frequency=0.1)
    _be(browser, "ana")
    browser.find_element(By.ID, "import-file").send_keys(str(questions))
    browser.find_element(By.ID, "import-button").click()
    status = browser.find_element(By.ID, "import-status")
    wait.until(lambda _: status.get_attribute("data-state") in ("done", "failed"))
    assert status.text.startswith("done: 2/2"), status.text
    items = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#items article.item"))
    assert [i.find_element(By.CSS_SELECTOR, ".question").text for i in items] == [
        q["text"] for q in QUESTIONS
    ]
    first = items[0]
    assert first.find_element(By.CSS_SELECTOR, ".answer").text.strip()
    sources = first.find_elements(By.CSS_SELECTOR, ".source-list li.source")
    assert sources, first.get_attribute("innerHTML")
    first.find_element(By.CSS_SELECTOR, ".sources summary").click()
    sources[0].find_element(By.CSS_SELECTOR, "summary").click()
    assert sources[0].find_element(By.CSS_SELECTOR, "blockquote").text.strip()  # expandable

    _rate(browser, wait, "ana")
    summary = browser.find_element(By.ID, "agreement-summary")
    wait.until(lambda _: "2 ratings by 1 raters" in summary.text)
    assert not browser.find_elements(By.CSS_SELECTOR, "#agreement-pairs .pair")
    _rate(browser, wait, "bo")
    wait.until(lambda _: "4 ratings by 2 raters" in summary.text)
    pairs = browser.find_elements(By.CSS_SELECTOR, "#agreement-pairs .pair")
    assert len(pairs) == 3 and "ana × bo (2 items)" in pairs[0].text
    # accuracy: (5, 3) from both raters -> alpha 1; helpfulness (4, 2) vs (5, 1) -> kappa 0
    alpha = browser.find_element(By.CSS_SELECTOR, "tr[data-dimension=accuracy] .alpha")
    assert alpha.text == "1.000"
    assert "κ 0.000" in pairs[0].text

    browser.find_element(By.ID, "export-csv").click()
    wait.until(lambda d: "4 rows" in d.find_element(By.ID, "export-status").text)
    saved = downloads / "review.csv"
    deadline = time.monotonic() + 30
    while not saved.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    expected = [
        (q["_id"], rater, str(SCORES[rater][i][0]))
        for i, q in enumerate(QUESTIONS)
        for rater in ("ana", "bo")
    ]
    assert [(r["question_id"], r["rater"], r["helpfulness"]) for r in rows] == expected
    assert rows[0]["comment"] == 'ana: fine, "quoted"' and rows[0]["answer"].strip()
    exported = httpx.get(stack.url + "/v1/review/export", params={"format": "json"}).json()
    assert [i["question_id"] for i in exported["items"]] == ["rv-rollback", "rv-pod"]
    assert exported["agreement"]["accuracy"]["alpha"] == 1.0
    shot = tmp_path / "review-page.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"\nscreenshot: {shot}")
