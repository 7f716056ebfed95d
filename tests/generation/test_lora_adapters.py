"""LoRA adapters served by name on the transformers engine: a request naming the adapter gets
the adapter's output, one without gets the base, both in one mixed batch; unknown names and
broken adapters are refused clearly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from docentlib.errors import InvalidInput, Unavailable
from services.generation.engines.base import ChatMessage, SamplingParams
from services.generation.engines.transformers_engine import TransformersEngine
from services.generation.settings import GenerationSettings
from tests.generation.conftest import collect, text_of

CHAT = [ChatMessage("user", "Name a colour.")]


@pytest.fixture(scope="module")
def adapter(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An adapter with random (non-zero) B, so it visibly changes the model's answers."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(smollm2_path, dtype=torch.float32)
    peft = get_peft_model(
        model,
        LoraConfig(
            r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
        ),
    )
    out = tmp_path_factory.mktemp("adapter") / "colours-v1"
    peft.save_pretrained(out)
    return out


def reference(smollm2_path: Path, adapter: Path | None, max_tokens: int) -> str:
    """Greedy text of the same chat from plain transformers (+ PEFT), outside the engine."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(smollm2_path)
    model = AutoModelForCausalLM.from_pretrained(smollm2_path, dtype=torch.float32)
    if adapter is not None:
        model = PeftModel.from_pretrained(model, adapter)
    ids = tok.apply_chat_template(
        [{"role": "user", "content": CHAT[0].content}], add_generation_prompt=True,
        return_tensors="pt", return_dict=True,
    )["input_ids"]  # fmt: skip
    out = model.eval().generate(input_ids=ids, max_new_tokens=max_tokens, do_sample=False)
    return tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


async def test_adapter_by_name_and_base_in_one_batch(
    generation_settings: GenerationSettings, adapter: Path, smollm2_path: Path
) -> None:
    settings = generation_settings.model_copy(
        update={"lora_adapters": {"colours-v1": str(adapter)}}
    )
    engine = await TransformersEngine.load(settings)
    try:
        assert engine.adapters == ("colours-v1",)
        tuned, base = await asyncio.gather(
            collect(engine, CHAT, SamplingParams(max_tokens=12, adapter="colours-v1")),
            collect(engine, CHAT, SamplingParams(max_tokens=12)),
        )
        with pytest.raises(InvalidInput, match=r"unknown adapter 'nope'; served: \['colours-v1'\]"):
            await collect(engine, CHAT, SamplingParams(max_tokens=4, adapter="nope"))
    finally:
        await engine.close()
    assert text_of(tuned[0]) == reference(smollm2_path, adapter, 12)
    assert text_of(base[0]) == reference(smollm2_path, None, 12)
    assert text_of(tuned[0]) != text_of(base[0])


async def test_a_missing_adapter_folder_fails_the_load(
    generation_settings: GenerationSettings, tmp_path: Path
) -> None:
    settings = generation_settings.model_copy(update={"lora_adapters": {"gone": str(tmp_path)}})
    with pytest.raises(Unavailable, match=r"no adapter_config\.json"):
        await TransformersEngine.load(settings)
