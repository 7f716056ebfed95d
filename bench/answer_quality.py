"""Answer quality on a question set: repeated sentences, unsupported sentences, references.

``python -m bench.answer_quality --gateway URL --embedding HOST:PORT --label after`` asks a running
gateway every question of ``tests/data/k8s-support`` (non-streamed, ``full_sources``) and
judges each answer the same way whatever produced it, so two gateways (the guard and decoding
defaults on, and off) can be compared on one stack:

- repeated: a sentence of the answer repeats an earlier one, or the same 5 words come a third
  time (the guard's own definition, :class:`RepetitionWatch`-like, computed here afresh);
- unsupported: the share of answer sentences that no passage the answer was given supports
  (:func:`docentlib.support.judge`, the judge the guard uses: for guarded answers this measures
  what got through, not an independent opinion; the reference scores below are independent);
- references (``references.jsonl``): the share of ``must_contain`` terms the answer contains and
  token F1 against the reference answer;
- fallback, refusal and latency.

Writes ``<out>/<label>.json`` (every answer with its judgement) and prints a summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx
from tqdm import tqdm

from docent_eval.answers.metrics import token_f1
from docentlib.support import judge, split_sentences, strip_citations
from services.runtime.clients import EmbeddingClient, Endpoint

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "k8s-support"
_WORDS = re.compile(r"[a-z0-9]+")
LOOP_NGRAM, LOOP_REPEATS = 5, 3
FALLBACK_PREFIX = "From the sources: "


def load_questions(data: Path = DATA) -> list[dict]:
    """The questions with their reference answers and must-contain terms."""
    queries = [json.loads(line) for line in (data / "queries.jsonl").read_text().splitlines()]
    refs = {
        r["_id"]: r
        for r in (json.loads(line) for line in (data / "references.jsonl").read_text().splitlines())
    }
    return [{**q, **refs.get(q["_id"], {})} for q in queries]


def repeated(sentences: list[str]) -> bool:
    """A sentence repeated (normalised, 12+ characters) or 5 words coming a third time."""
    seen: set[str] = set()
    grams: Counter[tuple[str, ...]] = Counter()
    for sentence in sentences:
        words = _WORDS.findall(strip_citations(sentence).lower())
        key = " ".join(words)
        if len(key) >= 12 and key in seen:
            return True
        seen.add(key)
        for i in range(len(words) - LOOP_NGRAM + 1):
            grams[tuple(words[i : i + LOOP_NGRAM])] += 1
            if grams[tuple(words[i : i + LOOP_NGRAM])] >= LOOP_REPEATS:
                return True
    return False


async def unsupported_share(
    embedding: EmbeddingClient, sentences: list[str], passages: list[str]
) -> tuple[int, list[str]]:
    """How many of ``sentences`` no passage supports (judged as the guard judges), and which."""
    if not sentences or not passages:
        return len(sentences) if not passages else 0, [] if passages else list(sentences)
    passage_sentences = [split_sentences(p) or [p] for p in passages]
    flat = [s for group in passage_sentences for s in group]
    vectors = await embedding.embed([strip_citations(s) for s in sentences] + flat)
    answer_vectors, rest = vectors[: len(sentences)], vectors[len(sentences) :]
    per_passage, start = [], 0
    for group in passage_sentences:
        per_passage.append(rest[start : start + len(group)])
        start += len(group)
    bad = [
        s
        for s, v in zip(sentences, answer_vectors, strict=True)
        if not judge(s, passages, sentence_vector=v, passage_vectors=per_passage).supported
    ]
    return len(bad), bad


async def ask(client: httpx.AsyncClient, question: str, overrides: dict) -> tuple[dict, float]:
    start = time.perf_counter()
    reply = await client.post(
        "/v1/chat",
        json={"message": question, "stream": False, "full_sources": True, **overrides},
    )
    if reply.status_code != 200:
        return {"error": f"HTTP {reply.status_code}: {reply.text[:200]}"}, 0.0
    return reply.json(), time.perf_counter() - start


def finished_rows(path: Path) -> list[dict]:
    """Rows an earlier run already wrote (one JSON object per line); a cut-off last line is
    dropped, so an interrupted run resumes where it stopped."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return [r for r in rows if "error" not in r]


async def run(args: argparse.Namespace) -> dict:
    rows_path = args.out / f"{args.label}.rows.jsonl"
    args.out.mkdir(parents=True, exist_ok=True)
    done = finished_rows(rows_path) if args.resume else []
    if not args.resume:
        rows_path.write_text("")
    else:  # rewrite without failed rows, so they are asked again
        rows_path.write_text("".join(json.dumps(r) + "\n" for r in done))
    seen = {r["_id"] for r in done}
    questions = [q for q in load_questions()[: args.limit or None] if q["_id"] not in seen]
    overrides = {
        k: v
        for k, v in (
            ("repetition_penalty", args.repetition_penalty),
            ("no_repeat_ngram_size", args.no_repeat_ngram_size),
            ("max_tokens", args.max_tokens),
        )
        if v is not None
    }
    embedding = EmbeddingClient(Endpoint("embedding", args.embedding, 120.0))
    slots = asyncio.Semaphore(args.concurrency)
    progress = tqdm(total=len(questions), desc=args.label, unit="q")

    async def one(client: httpx.AsyncClient, q: dict) -> dict:
        async with slots:
            body, seconds = await ask(client, q["text"], overrides)
            row = {"_id": q["_id"], **body} if "error" in body else None
            row = row or await judged(embedding, q, body, seconds)
        with rows_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        progress.update()
        return row

    async with httpx.AsyncClient(base_url=args.gateway, timeout=600) as client:
        rows = done + list(await asyncio.gather(*(one(client, q) for q in questions)))
    progress.close()
    return {"label": args.label, "overrides": overrides, "summary": summarise(rows), "rows": rows}


async def judged(embedding: EmbeddingClient, q: dict, body: dict, seconds: float) -> dict:
    """One answer with its judgement."""
    answer, meta = body["answer"], body["metadata"]
    sentences = [s for s in split_sentences(answer.removeprefix(FALLBACK_PREFIX)) if s]
    passages = [s["text"] for s in body["sources"]]
    bad, which = await unsupported_share(embedding, sentences, passages)
    terms = [t.lower() for t in q.get("must_contain", [])]
    return {
        "_id": q["_id"],
        "question": q["text"],
        "answer": answer,
        "seconds": round(seconds, 2),
        "refused": bool(meta.get("refused")),
        "fallback": bool((meta.get("groundedness") or {}).get("fallback")),
        "sentences": len(sentences),
        "unsupported": bad,
        "unsupported_sentences": which,
        "repeated": repeated(sentences),
        "must_contain": sum(t in answer.lower() for t in terms) / len(terms) if terms else None,
        "f1": round(token_f1(answer, q["reference"]), 4) if "reference" in q else None,
        "cited": bool(body.get("citations")),
    }


def summarise(rows: list[dict]) -> dict:
    errors = [r for r in rows if "error" in r]
    rows = [r for r in rows if "error" not in r]
    answered = [r for r in rows if not r["refused"]]
    sentences = sum(r["sentences"] for r in answered)
    f1 = [r["f1"] for r in answered if r["f1"] is not None]
    must = [r["must_contain"] for r in answered if r["must_contain"] is not None]
    seconds = sorted(r["seconds"] for r in rows)
    return {
        "questions": len(rows) + len(errors),
        "errors": len(errors),
        "refused": len(rows) - len(answered),
        "repeated_share": round(sum(r["repeated"] for r in answered) / max(len(answered), 1), 4),
        "sentences": sentences,
        "unsupported_share": round(sum(r["unsupported"] for r in answered) / max(sentences, 1), 4),
        "fallback_share": round(sum(r["fallback"] for r in answered) / max(len(answered), 1), 4),
        "cited_share": round(sum(r["cited"] for r in answered) / max(len(answered), 1), 4),
        "must_contain": round(statistics.fmean(must), 4) if must else None,
        "f1": round(statistics.fmean(f1), 4) if f1 else None,
        "seconds_p50": seconds[len(seconds) // 2] if seconds else None,
        "seconds_p95": seconds[int(0.95 * (len(seconds) - 1))] if seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8080")
    parser.add_argument("--embedding", default="127.0.0.1:50051", help="embedding gRPC address")
    parser.add_argument("--label", required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/out/answer_quality"))
    parser.add_argument("--limit", type=int, default=0, help="first N questions only")
    parser.add_argument("--concurrency", type=int, default=1, help="questions in flight")
    parser.add_argument("--repetition-penalty", type=float)
    parser.add_argument("--no-repeat-ngram-size", type=int)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument(
        "--resume", action="store_true", help="keep the answers LABEL.rows.jsonl already holds"
    )
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    (args.out / f"{args.label}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"label": args.label, **result["summary"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
