"""Training records (Alpaca, chat or preference) to token ids with the model's chat template.

Loss is taken on the answer only: prompt tokens get label -100. Prompt and answer are split
by rendering the conversation with and without the answer, so what the model learns to
continue is exactly what the serving engine sends (the same template, the same generation
prompt). With ``loss_on="assistant"`` every assistant turn of a chat record is learned (a
multi-step agent run is one record), each split from its prefix the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docentlib.errors import InvalidInput

IGNORE = -100


@dataclass(frozen=True)
class Example:
    """One supervised example: the ids, and how many leading ids are prompt.

    ``learn`` (when set) marks each id that gets a loss; otherwise every id after
    ``prompt_len`` does.
    """

    ids: list[int]
    prompt_len: int
    learn: tuple[bool, ...] | None = None


@dataclass(frozen=True)
class Pair:
    """One preference: a shared prompt and two answers."""

    prompt: list[dict[str, str]]
    chosen: str
    rejected: str


def read_records(path: Path) -> list[dict[str, Any]]:
    """JSONL, or a JSON file holding a list; clear errors naming the line."""
    if not path.is_file():
        raise InvalidInput(f"data file not found: {path}")
    text = path.read_text()
    if path.suffix == ".json":
        try:
            records = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, whichever json module raised it
            raise InvalidInput(f"{path}: not valid JSON: {exc}") from exc
        if not isinstance(records, list):
            raise InvalidInput(f"{path}: a .json data file must hold a list of records")
    else:
        records = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:  # JSONDecodeError, whichever json module raised it
                raise InvalidInput(f"{path}:{n}: not valid JSON: {exc}") from exc
    if not records or not all(isinstance(r, dict) for r in records):
        raise InvalidInput(f"{path}: expected at least one JSON object record")
    return records


def detect_format(record: dict[str, Any]) -> str:
    if {"prompt", "chosen", "rejected"} <= record.keys():
        return "preference"
    if "messages" in record:
        return "chat"
    if {"instruction", "output"} <= record.keys():
        return "alpaca"
    raise InvalidInput(
        f"cannot tell the record format from keys {sorted(record)}: want instruction/input/"
        "output (alpaca), messages (chat) or prompt/chosen/rejected (preference)"
    )


def to_messages(record: dict[str, Any], fmt: str) -> list[dict[str, str]]:
    """A conversation whose last message is the assistant answer to learn."""
    if fmt == "alpaca":
        user = str(record["instruction"])
        if record.get("input"):
            user = f"{user}\n\n{record['input']}"
        return [
            {"role": "user", "content": user},
            {"role": "assistant", "content": str(record["output"])},
        ]
    if fmt == "chat":
        messages = record["messages"]
        if not messages or messages[-1].get("role") != "assistant":
            raise InvalidInput("a chat record must end with an assistant message")
        return [{"role": m["role"], "content": str(m["content"])} for m in messages]
    raise InvalidInput(f"{fmt} records are not supervised examples")


def prompt_messages(prompt: Any) -> list[dict[str, str]]:
    """A preference prompt given as text or as a list of messages."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if isinstance(prompt, list) and all(isinstance(m, dict) for m in prompt):
        return [{"role": m["role"], "content": str(m["content"])} for m in prompt]
    raise InvalidInput("prompt must be a string or a list of {role, content} messages")


def encode(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> Example:
    """Token ids of the conversation and the length of the prompt part."""
    prompt = _template(tokenizer, messages[:-1], generation_prompt=True)
    full = _template(tokenizer, messages, generation_prompt=False)
    if full[: len(prompt)] != prompt:  # a template that rewrites history: append the answer
        answer = tokenizer(messages[-1]["content"], add_special_tokens=False)["input_ids"]
        full = prompt + list(answer) + [tokenizer.eos_token_id]
    full = _strip_trailing_newline(tokenizer, full)
    if len(prompt) >= max_length:
        raise InvalidInput(f"a prompt has {len(prompt)} tokens; max_length is {max_length}")
    return Example(ids=full[:max_length], prompt_len=len(prompt))


def encode_turns(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> Example:
    """Ids of the whole conversation with a loss on every assistant turn (and its end token)."""
    full = _strip_trailing_newline(tokenizer, _template(tokenizer, messages, False))
    learn = [False] * len(full)
    first = None
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = _template(tokenizer, messages[:i], generation_prompt=True)
        upto = _strip_trailing_newline(tokenizer, _template(tokenizer, messages[: i + 1], False))
        if full[: len(upto)] != upto or upto[: len(prompt)] != prompt:
            raise InvalidInput("the chat template rewrites earlier turns; use loss_on: last")
        first = len(prompt) if first is None else first
        for j in range(len(prompt), len(upto)):
            learn[j] = True
    if first is None:
        raise InvalidInput("a chat record has no assistant message to learn")
    if first >= max_length:
        raise InvalidInput(f"a prompt has {first} tokens; max_length is {max_length}")
    return Example(ids=full[:max_length], prompt_len=first, learn=tuple(learn[:max_length]))


def load_sft(
    path: Path, tokenizer: Any, fmt: str, max_length: int, loss_on: str = "last"
) -> list[Example]:
    """Records as examples; ``loss_on="assistant"`` learns every assistant turn of a chat."""
    records = read_records(path)
    fmt = detect_format(records[0]) if fmt == "auto" else fmt
    if loss_on == "assistant":
        if fmt != "chat":
            raise InvalidInput("loss_on: assistant needs chat records (messages)")
        return [encode_turns(tokenizer, to_messages(r, fmt), max_length) for r in records]
    return [encode(tokenizer, to_messages(r, fmt), max_length) for r in records]


def load_pairs(path: Path) -> list[Pair]:
    records = read_records(path)
    pairs = []
    for n, r in enumerate(records, start=1):
        if detect_format(r) != "preference":
            raise InvalidInput(f"{path}: record {n} needs prompt, chosen and rejected")
        pairs.append(Pair(prompt_messages(r["prompt"]), str(r["chosen"]), str(r["rejected"])))
    return pairs


def collate(examples: list[Example], pad_id: int) -> dict[str, Any]:
    """Right-padded input ids, attention mask and labels (-100 on prompt and padding)."""
    import torch

    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids)
        mask[i, :n] = 1
        if e.learn is None:
            labels[i, e.prompt_len : n] = torch.tensor(e.ids[e.prompt_len :])
        else:
            keep = torch.tensor(e.learn, dtype=torch.bool)
            labels[i, :n] = torch.where(keep, torch.tensor(e.ids), IGNORE)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _template(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
    try:
        ids = tokenizer.apply_chat_template(
            messages, add_generation_prompt=generation_prompt, tokenize=True, return_dict=False
        )
    except Exception as exc:  # jinja refuses conversations the template forbids
        raise InvalidInput(f"the chat template rejected a record: {exc}") from exc
    return [int(i) for i in ids]


def _strip_trailing_newline(tokenizer: Any, ids: list[int]) -> list[int]:
    """Drop the newline many templates put after the end-of-turn token: it is never sampled."""
    if len(ids) > 1 and tokenizer.decode(ids[-1:]) == "\n":
        return ids[:-1]
    return ids
