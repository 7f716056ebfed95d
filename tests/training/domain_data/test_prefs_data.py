"""``docent data prefs``: chosen is the served answer, rejected has a named flaw."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.common.data import load_pairs
from docentlib.answer_format import out_of_scope_refusal
from docentlib.support import split_sentences, strip_citations
from tests.training.domain_data.conftest import read_jsonl

DOMAIN = "the Harbor message system"


@pytest.fixture(scope="module")
def run(corpus: Path, eval_questions: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("out") / "prefs.jsonl"
    args = ["data", "prefs", "--corpus", str(corpus), "--out", str(out), "--count", "80"]
    args += ["--eval-docs", str(eval_questions), "--domain", DOMAIN, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    records = read_jsonl(out) + read_jsonl(out.with_name("prefs.eval.jsonl"))
    summary = json.loads(result.output.strip().splitlines()[-1])
    return {"out": out, "output": result.output, "summary": summary, "records": records}


def test_every_flaw_is_made_and_counted(run) -> None:
    flaws = {r["rejected_kind"] for r in run["records"]}
    assert flaws == {"ungrounded", "uncited", "repetitive", "complies"}
    for split in ("train", "eval"):
        table = run["summary"]["rejected"][split]
        for flaw, n in table.items():
            if flaw != "total":
                assert n == sum(
                    1 for r in run["records"] if r["split"] == split and r["rejected_kind"] == flaw
                )
    assert "rejected (train):" in run["output"]
    assert "**rejected (" in run["out"].with_name("prefs.sample.md").read_text()


def test_rejected_answers_have_the_flaw_they_are_labelled_with(run) -> None:
    for record in run["records"]:
        chosen, rejected, flaw = record["chosen"], record["rejected"], record["rejected_kind"]
        prompt = record["prompt"][-1]["content"]
        assert chosen != rejected
        if flaw == "uncited":
            assert rejected == strip_citations(chosen).strip() and not re.search(
                r"\[\d\]", rejected
            )
        elif flaw == "repetitive":
            sentences = split_sentences(rejected)
            assert len(sentences) >= 3 and len(set(sentences)) == 1
        elif flaw == "ungrounded":  # confident and cited, but the prompt's sources lack it
            assert re.search(r"\[\d\]", rejected)
            for sentence in split_sentences(rejected):
                assert strip_citations(sentence).rstrip(".!? ") not in " ".join(prompt.split())
        else:
            assert flaw == "complies" and record["kind"] in ("out_of_scope", "unanswerable")
            assert chosen.startswith(("Sorry", "I don't know"))
        if record["kind"] == "out_of_scope":
            assert chosen == out_of_scope_refusal(DOMAIN)


def test_pairs_load_for_dpo(run) -> None:
    pairs = load_pairs(run["out"])
    assert len(pairs) == run["summary"]["counts"]["train"]["total"]
    assert pairs[0].prompt[0]["role"] == "system" and pairs[0].prompt[-1]["role"] == "user"
