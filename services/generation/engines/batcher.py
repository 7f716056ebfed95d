"""Dynamic batching for a transformers causal LM: one decode step serves every running request.

A worker thread owns the model. A request that arrives is prefilled alone (its own KV cache, so
its first token comes as soon as the CPU is free), then merged into the running batch: the
caches are left-padded to one length and stacked, and an attention mask hides the padding.
Each decode step then runs one forward pass for all rows; a row that finishes or is aborted is
removed and padding every remaining row shares is trimmed. Requests beyond ``max_batch_size``
wait in a queue.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from services.generation.engines.sequence import SequenceState

log = logging.getLogger(__name__)
BASE = "__base__"  # PEFT's name for "no adapter" in a mixed batch


class Batcher:
    """Runs :class:`SequenceState` objects to completion in batches on one worker thread.

    Usage::

        batcher = Batcher(model, cache_arg="past_key_values", max_batch_size=8)
        batcher.submit(seq)   # seq.emit receives deltas then one Finish
        batcher.close()
    """

    def __init__(
        self, model: Any, cache_arg: str, max_batch_size: int, adapters: bool = False
    ) -> None:
        import torch

        self._model = model
        self._cache_arg = cache_arg
        self._adapters = adapters  # a PeftModel: each row names its LoRA adapter (or the base)
        self._threads = torch.get_num_threads()
        self.max_batch_size = max_batch_size
        self._cond = threading.Condition()
        self._queue: deque[SequenceState] = deque()
        self._rows: list[SequenceState] = []
        self._cache: Any = None  # DynamicCache holding every row, left-padded
        self._mask: Any = None  # [rows, cache length] 1 for real tokens
        self._closed = False
        self._running = 0  # rows plus requests popped for prefill; written by the worker only
        self._thread = threading.Thread(target=self._loop, name="generate-batch", daemon=True)
        self._thread.start()

    @property
    def running(self) -> int:
        """Requests being prefilled or decoded now."""
        return self._running

    @property
    def waiting(self) -> int:
        """Requests queued because the batch is full (or the worker is busy prefilling)."""
        return len(self._queue)

    def submit(self, seq: SequenceState) -> None:
        """Queue ``seq``; the worker picks it up before its next decode step."""
        with self._cond:
            if self._closed:
                raise RuntimeError("batcher is closed")
            self._queue.append(seq)
            self._cond.notify()

    def wake(self) -> None:
        """Make the worker look at aborts now (a consumer left while it was idle-waiting)."""
        with self._cond:
            self._cond.notify()

    def close(self) -> None:
        """Abort everything and join the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    # -- worker -----------------------------------------------------------------------------

    def _loop(self) -> None:
        import torch

        # OpenMP thread settings are per calling thread: repeat the loader's choice here.
        torch.set_num_threads(self._threads)
        with torch.inference_mode():
            while True:
                admit = self._next_admissions()
                if admit is None:
                    return
                for seq in admit:
                    self._guard(seq, self._admit)
                self._drop_finished()
                if self._rows:
                    try:
                        self._step()
                    except Exception as exc:  # a failed forward fails the whole batch
                        log.exception("batched decode step failed")
                        for seq in self._rows:
                            seq.emit(exc)
                        self._rows, self._cache, self._mask = [], None, None
                    self._drop_finished()

    def _next_admissions(self) -> list[SequenceState] | None:
        with self._cond:
            while not self._closed and not self._queue and not self._rows:
                self._cond.wait()
            if self._closed:
                for seq in [*self._queue, *self._rows]:
                    seq.abort()
                self._queue.clear()
                self._rows, self._running = [], 0
                return None
            room = self.max_batch_size - len(self._rows)
            admit = [self._queue.popleft() for _ in range(min(room, len(self._queue)))]
            self._running = len(self._rows) + len(admit)
            return admit

    def _guard(self, seq: SequenceState, step: Any) -> None:
        try:
            step(seq)
        except Exception as exc:
            log.exception("prefill failed")
            seq.emit(exc)

    def _admit(self, seq: SequenceState) -> None:
        """Prefill ``seq`` alone, emit its first token, then merge its cache into the batch."""
        import torch
        from transformers import DynamicCache

        if seq.stop.is_set():
            seq.abort()
            return
        seq.make_generator()
        cache = DynamicCache(config=self._model.config)
        inputs = torch.tensor([seq.prompt_ids], dtype=torch.long)
        out = self._model(
            input_ids=inputs,
            use_cache=True,
            logits_to_keep=1,
            **self._adapter_names([seq]),
            **{self._cache_arg: cache},
        )
        seq.cached = len(seq.prompt_ids)
        if seq.accept(seq.choose(out.logits[0, -1])):
            return
        self._merge(seq, cache)

    def _merge(self, seq: SequenceState, cache: Any) -> None:
        import torch

        if not self._rows:
            self._rows, self._cache = [seq], cache
            self._mask = torch.ones((1, seq.cached), dtype=torch.long)
            return
        length = self._mask.shape[1]
        target = max(length, seq.cached)
        for batch_layer, new_layer in zip(self._cache.layers, cache.layers, strict=True):
            batch_layer.keys = torch.cat(
                [
                    _pad_left(batch_layer.keys, target - length),
                    _pad_left(new_layer.keys, target - seq.cached),
                ]
            )
            batch_layer.values = torch.cat(
                [
                    _pad_left(batch_layer.values, target - length),
                    _pad_left(new_layer.values, target - seq.cached),
                ]
            )
        new_mask = torch.zeros((1, target), dtype=torch.long)
        new_mask[0, target - seq.cached :] = 1
        self._mask = torch.cat([_pad_left(self._mask, target - length), new_mask])
        self._rows.append(seq)

    def _step(self) -> None:
        """One forward pass for every row, one token each."""
        import torch

        rows = self._rows
        inputs = torch.tensor([[s.last_token] for s in rows], dtype=torch.long)
        positions = torch.tensor([[s.cached] for s in rows], dtype=torch.long)
        self._mask = torch.cat([self._mask, torch.ones((len(rows), 1), dtype=torch.long)], dim=1)
        padded = len(rows) > 1 or self._mask.shape[1] != rows[0].cached + 1
        # A lone unpadded row needs no mask: the model's fast causal path, as a plain decode loop.
        masking = {"attention_mask": self._mask, "position_ids": positions} if padded else {}
        out = self._model(
            input_ids=inputs,
            use_cache=True,
            logits_to_keep=1,
            **masking,
            **self._adapter_names(rows),
            **{self._cache_arg: self._cache},
        )
        for i, seq in enumerate(rows):
            seq.cached += 1
            if seq.stop.is_set():
                seq.abort()
                continue
            try:
                seq.accept(seq.choose(out.logits[i, -1]))
            except Exception as exc:  # e.g. its constraint failed: this row ends, not the batch
                log.exception("decode step failed for one row")
                seq.fail(exc)

    def _adapter_names(self, rows: list[SequenceState]) -> dict[str, Any]:
        """PEFT's mixed-adapter batch: one adapter name per row, ``__base__`` for none."""
        if not self._adapters:
            return {}
        return {"adapter_names": [s.params.adapter or BASE for s in rows]}

    def _drop_finished(self) -> None:
        """Remove ended or aborted rows and the padding the remaining rows all share."""
        for seq in self._rows:
            if seq.finish is None and seq.stop.is_set():
                seq.abort()
        keep = [i for i, s in enumerate(self._rows) if s.finish is None]
        self._running = len(keep)
        if len(keep) == len(self._rows):
            return
        self._rows = [self._rows[i] for i in keep]
        if not self._rows:
            self._cache = self._mask = None
            return
        lead = self._mask.shape[1] - max(s.cached for s in self._rows)
        for layer in self._cache.layers:
            layer.keys = layer.keys[keep, :, lead:]
            layer.values = layer.values[keep, :, lead:]
        self._mask = self._mask[keep, lead:]


def _pad_left(tensor: Any, n: int) -> Any:
    """``tensor`` with ``n`` zero columns in front of its sequence dimension (-2 or -1 for 2D)."""
    import torch

    if n == 0:
        return tensor
    dim = -1 if tensor.dim() == 2 else -2
    shape = list(tensor.shape)
    shape[dim] = n
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
