"""LoRA adapters served by name on the transformers engine (PEFT, mixed-adapter batches).

Every adapter in ``lora_adapters`` is loaded once onto the one base model; each request
names its adapter (or none, for the base) and the batcher passes one name per row, so
requests for different adapters and for the base still share each forward pass.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from docentlib.errors import InvalidInput, Unavailable
from services.generation.engines.base import SamplingParams

log = logging.getLogger(__name__)


def attach_adapters(model: Any, adapters: dict[str, str]) -> Any:
    """``model`` wrapped in a PeftModel holding every adapter, or unchanged when none."""
    if not adapters:
        return model
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise Unavailable("lora_adapters needs the peft package") from exc
    wrapped = None
    for name, path in sorted(adapters.items()):
        folder = Path(path).expanduser()
        if name == "__base__" or not name:
            raise Unavailable(f"adapter name {name!r} is reserved")
        if not (folder / "adapter_config.json").is_file():
            raise Unavailable(f"LoRA adapter {name!r}: no adapter_config.json in {folder}")
        try:
            if wrapped is None:
                wrapped = PeftModel.from_pretrained(model, folder, adapter_name=name)
            else:
                wrapped.load_adapter(folder, adapter_name=name)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise Unavailable(f"cannot load LoRA adapter {name!r} from {folder}: {exc}") from exc
        log.info("LoRA adapter loaded", extra={"adapter": name, "path": str(folder)})
    return wrapped


def check_adapter(params: SamplingParams, served: tuple[str, ...]) -> None:
    """An adapter the engine does not serve is refused, never silently replaced by the base."""
    if params.adapter and params.adapter not in served:
        raise InvalidInput(
            f"unknown adapter {params.adapter!r}; served: {sorted(served) or 'none'}"
        )
