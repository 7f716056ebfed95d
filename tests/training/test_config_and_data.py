"""Job configs and records: formats, answer-only labels, and clear refusals of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.common.config import load_config
from docent_training.common.data import (
    IGNORE,
    collate,
    detect_format,
    encode,
    encode_turns,
    load_sft,
    to_messages,
)
from docentlib.errors import InvalidInput

runner = CliRunner()


@pytest.fixture(scope="module")
def tokenizer(smollm2_path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_path)


def test_alpaca_and_chat_records_become_the_same_conversation() -> None:
    alpaca = {"instruction": "Add.", "input": "2 + 2", "output": "4"}
    chat = {"messages": [{"role": "user", "content": "Add.\n\n2 + 2"},
                         {"role": "assistant", "content": "4"}]}  # fmt: skip
    assert detect_format(alpaca) == "alpaca" and detect_format(chat) == "chat"
    assert to_messages(alpaca, "alpaca") == to_messages(chat, "chat")
    assert detect_format({"prompt": "p", "chosen": "a", "rejected": "b"}) == "preference"
    with pytest.raises(InvalidInput, match="cannot tell the record format"):
        detect_format({"question": "?"})


def test_only_answer_tokens_carry_loss(tokenizer) -> None:
    messages = to_messages({"instruction": "Say hi.", "output": "Hello there"}, "alpaca")
    example = encode(tokenizer, messages, max_length=256)
    batch = collate([example], tokenizer.pad_token_id or 0)
    labels = batch["labels"][0].tolist()
    assert all(x == IGNORE for x in labels[: example.prompt_len])
    answer = tokenizer.decode([x for x in labels if x != IGNORE])
    assert answer.startswith("Hello there") and "Say hi" not in answer


def test_every_assistant_turn_carries_loss_with_loss_on_assistant(tokenizer, tmp_path) -> None:
    """A multi-step agent run is one example: each action and the answer are learned."""
    messages = [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": "CALL weather Oslo"},
        {"role": "user", "content": "Observation: 3.1 C"},
        {"role": "assistant", "content": "ANSWER 3.1 C"},
    ]
    example = encode_turns(tokenizer, messages, max_length=256)
    labels = collate([example], tokenizer.pad_token_id or 0)["labels"][0].tolist()
    learned = tokenizer.decode([x for x in labels if x != IGNORE])
    assert "CALL weather Oslo" in learned and "ANSWER 3.1 C" in learned
    assert "Observation" not in learned and "Weather in Oslo" not in learned
    assert learned.count("<|im_end|>") == 2, "each turn learns to end"
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps({"messages": messages}) + "\n")
    assert load_sft(path, tokenizer, "auto", 256, "assistant") == [example]
    alpaca = tmp_path / "alpaca.jsonl"
    alpaca.write_text(json.dumps({"instruction": "a", "output": "b"}) + "\n")
    with pytest.raises(InvalidInput, match="needs chat records"):
        load_sft(alpaca, tokenizer, "auto", 256, "assistant")


def test_files_load_and_bad_lines_are_named(tokenizer, tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_text(json.dumps({"instruction": "x", "output": "y"}) + "\n")
    assert len(load_sft(good, tokenizer, "auto", 64)) == 1
    bad = tmp_path / "b.jsonl"
    bad.write_text('{"instruction": "x", "output": "y"}\n{oops\n')
    with pytest.raises(InvalidInput, match=r"b\.jsonl:2: not valid JSON"):
        load_sft(bad, tokenizer, "auto", 64)


def test_config_paths_resolve_and_deepspeed_names_find_the_shipped_files(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(
        "kind: sft\noutput_dir: out\ndata: {train: d.jsonl}\ndeepspeed: zero3_offload.json\n"
    )
    config = load_config(path, "sft")
    assert config.output_dir == tmp_path / "out" and config.data.train == tmp_path / "d.jsonl"
    assert config.deepspeed is not None and config.deepspeed.parent.name == "deepspeed"
    assert json.loads(config.deepspeed.read_text())["zero_optimization"]["offload_optimizer"]
    assert config.lora.r == 64 and len(config.lora.target_modules) == 7
    assert config.quantization is not None and config.quantization.quant_type == "nf4"
    assert config.quantization.double_quant and config.training.gradient_checkpointing


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: sft\n", "output_dir"),
        ("kind: sft\noutput_dir: o\ndata: {train: d}\nlora: {r: 0}\n", "lora.r"),
        ("kind: dpo\noutput_dir: o\ndata: {train: d}\n", "is a dpo config, not sft"),
        ("kind: sft\noutput_dir: o\ndata: {train: d}\nbogus: 1\n", "bogus"),
        ("[1, 2", "not valid YAML/JSON"),
    ],
)
def test_bad_configs_are_clear_cli_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["train", "sft", "--config", str(path)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_missing_files_are_clear_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["train", "dpo", "--config", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1 and "config file not found" in missing.output
    merge = runner.invoke(
        app, ["train", "merge", "--adapter", str(tmp_path), "--output", str(tmp_path / "m")]
    )
    assert merge.exit_code == 1 and "no LoRA adapter" in merge.output
    args = ["--candidate", str(tmp_path / "x"), "--data", str(tmp_path)]
    gate = runner.invoke(app, ["eval", "model", *args, "--report", str(tmp_path / "r")])
    assert gate.exit_code == 2 and "does not exist" in gate.output
