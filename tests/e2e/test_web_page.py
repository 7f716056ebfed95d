"""The chat page in headless Chromium against the real stack: stream, cite, show the passage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser import start_chromium
from tests.e2e.conftest import Stack
from tests.e2e.corpus import DEPLOYMENT_PAGE, ingest, link_corpus

pytestmark = pytest.mark.e2e

QUESTION = "How do I roll back a Deployment to a previous revision?"


@pytest.fixture(scope="module")
def ingested(stack: Stack, k8s_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return ingest(stack, link_corpus(k8s_docs, tmp_path_factory.mktemp("corpus")))


@pytest.fixture
def browser(tmp_path: Path):
    driver = start_chromium(tmp_path)
    yield driver
    driver.quit()


def test_chat_page_streams_an_answer_with_clickable_citations(
    stack: Stack, ingested: dict, browser, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(stack.url + "/?max_tokens=48")  # a short answer: CPU generation is slow
    assert browser.title == "Docent"
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "send").click()
    wait = WebDriverWait(browser, 300, poll_frequency=0.05)
    streaming = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".assistant")))
    partial = wait.until(lambda _: streaming.text.strip() and streaming.text)
    done = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".assistant.done")))
    assert len(done.text) > len(partial), "the answer must arrive in pieces"
    citations = done.find_elements(By.CSS_SELECTOR, "button.cite")
    assert citations, done.get_attribute("innerHTML")
    cited = done.find_elements(By.CSS_SELECTOR, "button.cite.cited")
    assert cited, "the sources actually cited are marked"
    cited[0].click()
    panel = wait.until(ec.visibility_of_element_located((By.ID, "passage")))
    assert browser.find_element(By.ID, "passage-text").text.strip()
    sources = done.find_elements(By.CSS_SELECTOR, ".sources button.cite")
    assert any(DEPLOYMENT_PAGE in (b.get_attribute("title") or "") for b in sources)
    conversations = wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#conversations li.active")
    )
    assert QUESTION[:30] in conversations[0].text
    shot = tmp_path / "chat-page.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"\nscreenshot: {shot}; passage shown: {panel.text[:80]!r}")
