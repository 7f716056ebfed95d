"""``docent train merge``: fold a LoRA adapter into its base and save a plain model folder.

The base is loaded unquantised (bf16 on GPU, fp32 on CPU) even when the adapter was trained
against a 4-bit base: merging into 4-bit weights would round the update away. The result
loads like any Hugging Face model, so any engine serves it without LoRA support.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from docent_training.common.checkpoint import publish_dir
from docent_training.common.modeling import resolve_base
from docentlib.errors import InvalidInput, Unavailable

log = logging.getLogger(__name__)


def adapter_base(adapter: Path) -> str | None:
    """The base recorded when the adapter was trained (docent-adapter.json), if any."""
    info = adapter / "docent-adapter.json"
    return json.loads(info.read_text()).get("base_model") if info.is_file() else None


def merge_adapter(base: str | None, adapter: Path, output: Path) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (adapter / "adapter_config.json").is_file():
        raise InvalidInput(f"no LoRA adapter (adapter_config.json) in {adapter}")
    base = base or adapter_base(adapter)
    if base is None:
        raise InvalidInput("give --base: the adapter does not record its base model")
    path = resolve_base(base)
    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    except (OSError, ValueError) as exc:
        raise Unavailable(f"cannot merge {adapter} into {path}: {exc}") from exc

    def build(tmp: Path) -> None:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "docent-merged.json").write_text(
            json.dumps({"base": str(path), "adapter": str(adapter.resolve())}, indent=2) + "\n"
        )

    log.info("merged %s into %s -> %s", adapter, path, output)
    return publish_dir(build, output)
