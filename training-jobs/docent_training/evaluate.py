"""The evaluation gate between training and serving: ``docent eval model``.

Base and candidate answer the same held-out prompts (greedy, chat template). A judge decides
each prompt: ``exact-match`` compares answers with the reference answer of QA data;
``dpo-reward`` scores both answers with the DPO implicit reward
``beta * (log pi(y|x) - log ref(y|x))``, where pi is the candidate (a DPO-trained policy) and
ref the base. Win rate counts ties as half. The candidate passes when its win rate reaches
the threshold and, for exact-match, its accuracy is not below the base's.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from docent_training.common.data import prompt_messages, read_records
from docent_training.common.modeling import resolve_base
from docent_training.losses import completion_logps
from docent_training.merge import adapter_base
from docentlib.errors import InvalidInput

JUDGES = ("exact-match", "dpo-reward")


@dataclass
class Row:
    prompt: str
    base: str
    candidate: str
    base_score: float
    candidate_score: float
    outcome: str  # win, loss, tie (for the candidate)
    answer: str | None = None


@dataclass
class Report:
    judge: str
    base: str
    candidate: str
    prompts: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    base_metric: float
    candidate_metric: float
    threshold: float
    passed: bool
    rows: list[Row] = field(default_factory=list)

    def markdown(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        metric = "exact match" if self.judge == "exact-match" else "mean DPO reward"
        lines = [
            f"# Evaluation gate: {verdict}",
            "",
            f"- judge: `{self.judge}`; base: `{self.base}`; candidate: `{self.candidate}`",
            f"- win rate {self.win_rate:.3f} (threshold {self.threshold}) over {self.prompts} "
            f"prompts: {self.wins} wins, {self.losses} losses, {self.ties} ties",
            f"- {metric}: base {self.base_metric:.3f}, candidate {self.candidate_metric:.3f}",
            "",
            "| # | outcome | base | candidate |",
            "|---|---|---|---|",
        ]
        for i, r in enumerate(self.rows, start=1):
            lines.append(f"| {i} | {r.outcome} | {_cell(r.base)} | {_cell(r.candidate)} |")
        return "\n".join(lines) + "\n"


def normalize(text: str) -> str:
    text = text.strip().splitlines()[0] if text.strip() else ""
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return re.sub(r"\s+", " ", text).strip()


def exact_match(prediction: str, answer: str) -> bool:
    return normalize(prediction) == normalize(answer)


def load_lm(model: str, adapter: Path | None = None) -> tuple[Any, Any]:
    """A causal LM for inference: a model folder/name, optionally with a LoRA adapter on it."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_base(model)
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, local_files_only=True)
    if adapter is not None:
        lm = PeftModel.from_pretrained(lm, adapter)
    return lm.eval(), tok


def resolve_candidate(candidate: Path, base: str) -> tuple[str, Path | None]:
    """(model, adapter): an adapter folder sits on its recorded base, or on ``--base``."""
    if (candidate / "adapter_config.json").is_file():
        return adapter_base(candidate) or base, candidate
    if (candidate / "config.json").is_file():
        return str(candidate), None
    raise InvalidInput(f"{candidate} is neither a model folder nor a LoRA adapter")


def prompt_ids(tok: Any, prompt: Any) -> list[int]:
    ids = tok.apply_chat_template(
        prompt_messages(prompt), add_generation_prompt=True, tokenize=True, return_dict=False
    )
    return [int(i) for i in ids]


def generate(lm: Any, tok: Any, prompt: Any, max_new_tokens: int) -> str:
    import torch

    ids = torch.tensor([prompt_ids(tok, prompt)])
    with torch.no_grad():
        out = lm.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tok.pad_token_id or tok.eos_token_id,
        )
    return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


def answer_logp(lm: Any, tok: Any, prompt: Any, answer: str) -> float:
    import torch

    head = prompt_ids(tok, prompt)
    tail = tok(answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    ids = torch.tensor([head + tail])
    labels = ids.clone()
    labels[0, : len(head)] = -100
    with torch.no_grad():
        return float(completion_logps(lm(input_ids=ids).logits, labels)[0])


def evaluate_gate(
    base: str,
    candidate: Path,
    data: Path,
    judge: str = "exact-match",
    threshold: float = 0.6,
    max_new_tokens: int = 32,
    beta: float = 0.1,
    limit: int | None = None,
    progress: bool = True,
) -> Report:
    if judge not in JUDGES:
        raise InvalidInput(f"--judge must be one of {', '.join(JUDGES)}, got {judge!r}")
    records = read_records(data)[:limit]
    if judge == "exact-match" and not all("answer" in r for r in records):
        raise InvalidInput("exact-match needs an 'answer' in every record")
    if not all("prompt" in r for r in records):
        raise InvalidInput("every record needs a 'prompt'")
    base_lm, tok = load_lm(base)
    cand_model, adapter = resolve_candidate(candidate, base)
    cand_lm, _ = load_lm(cand_model, adapter)
    rows = []
    for r in tqdm(records, desc=f"eval {judge}", disable=not progress):
        b = generate(base_lm, tok, r["prompt"], max_new_tokens)
        c = generate(cand_lm, tok, r["prompt"], max_new_tokens)
        if judge == "exact-match":
            bs, cs = float(exact_match(b, r["answer"])), float(exact_match(c, r["answer"]))
        else:
            bs = beta * (
                answer_logp(cand_lm, tok, r["prompt"], b)
                - answer_logp(base_lm, tok, r["prompt"], b)
            )
            cs = beta * (
                answer_logp(cand_lm, tok, r["prompt"], c)
                - answer_logp(base_lm, tok, r["prompt"], c)
            )
            if b == c:
                bs = cs
        outcome = "win" if cs > bs else "loss" if cs < bs else "tie"
        rows.append(Row(str(r["prompt"]), b, c, bs, cs, outcome, r.get("answer")))
    n = len(rows)
    wins = sum(r.outcome == "win" for r in rows)
    losses = sum(r.outcome == "loss" for r in rows)
    ties = n - wins - losses
    win_rate = (wins + 0.5 * ties) / n
    base_metric = sum(r.base_score for r in rows) / n
    cand_metric = sum(r.candidate_score for r in rows) / n
    passed = win_rate >= threshold and (judge != "exact-match" or cand_metric >= base_metric)
    return Report(
        judge,
        base,
        str(candidate),
        n,
        wins,
        losses,
        ties,
        win_rate,
        base_metric,
        cand_metric,
        threshold,
        passed,
        rows,
    )


def write_report(report: Report, out: Path) -> tuple[Path, Path]:
    """``out`` as JSON and the same name with .md beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path = out if out.suffix == ".json" else out.with_suffix(".json")
    md_path = json_path.with_suffix(".md")
    json_path.write_text(json.dumps(asdict(report), indent=2) + "\n")
    md_path.write_text(report.markdown())
    return json_path, md_path


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:80]
