"""One generation in flight: its sampling state, its text stream and how it ends.

Kept apart from the batch scheduler so the per-token bookkeeping (end of sequence, stop
strings, held-back text, usage) is the same whether a sequence decodes alone or in a batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.generation.engines.base import Finish, SamplingParams, TokenDelta
from services.generation.engines.detokenize import IncrementalDecoder, StopFilter

Item = TokenDelta | Finish | BaseException


@dataclass(eq=False)
class SequenceState:
    """A request as the decode loop sees it (``emit`` is thread-safe, ``stop`` is the abort)."""

    prompt_ids: list[int]
    params: SamplingParams
    emit: Callable[[Item], None]
    decode: Callable[[Sequence[int]], str]
    eos_ids: frozenset[int]
    stop: threading.Event = field(default_factory=threading.Event)
    generator: Any = None
    produced: int = 0
    cached: int = 0  # tokens of this sequence in the KV cache
    last_token: int = -1  # the next input of the decode step
    pending: list[int] = field(default_factory=list)
    generated: list[int] = field(default_factory=list)  # every token sampled so far
    finish: Finish | None = None
    constraint: Any = None  # a TokenConstraint (structured output) or None: this row is free

    def __post_init__(self) -> None:
        self._decoder = IncrementalDecoder(self.decode)
        self._stops = StopFilter(self.params.stop)

    def make_generator(self) -> None:
        """A private RNG per request, so a seed reproduces its output whatever the batch."""
        import torch

        if self.params.temperature > 0:
            self.generator = torch.Generator()
            if self.params.seed is None:
                self.generator.seed()
            else:
                self.generator.manual_seed(self.params.seed)

    def choose(self, row: Any) -> int:
        """The next token from this row's logits: masked by its constraint when it has one
        (structured output must stay exact, so no repetition controls there), else under its
        repetition controls."""
        if self.constraint is not None:
            return pick(self.constraint.mask(row), self.params, self.generator)
        return pick(without_repeats(row, self.generated, self.params), self.params, self.generator)

    def accept(self, token: int) -> bool:
        """Take one sampled token, emit the text it completes; True when the sequence ended."""
        self.produced += 1
        self.last_token = token
        self.generated.append(token)
        if token in self.eos_ids:
            return self._end("stop")
        if self.constraint is not None:
            self.constraint.advance(token)
        self.pending.append(token)
        text, stopped = self._stops.feed(self._decoder.push(token))
        if text:
            self.emit(TokenDelta(text, tuple(self.pending)))
            self.pending = []
        if stopped:
            self._finish("stop")
            return True
        if self.produced >= self.params.max_tokens:
            return self._end("length")
        if self.constraint is not None and self.constraint.done:
            return self._end("stop")  # the grammar is complete: nothing but EOS could follow
        return False

    def fail(self, exc: BaseException) -> None:
        """End with an error for this row alone (the batch goes on)."""
        self.finish = Finish("abort", len(self.prompt_ids), self.produced)
        self.emit(exc)

    def abort(self) -> None:
        """End without flushing: the consumer is gone or the engine is closing."""
        self._finish("abort")

    def _end(self, reason: str) -> bool:
        text, stopped = self._stops.feed(self._decoder.flush())
        if not stopped:
            text += self._stops.flush()
        if text:
            self.emit(TokenDelta(text, tuple(self.pending)))
        self._finish("stop" if stopped else reason)
        return True

    def _finish(self, reason: str) -> None:
        self.finish = Finish(reason, len(self.prompt_ids), self.produced)  # type: ignore[arg-type]
        self.emit(self.finish)


def without_repeats(logits: Any, generated: Sequence[int], params: SamplingParams) -> Any:
    """``logits`` with the repetition penalty applied to generated tokens and the tokens that
    would repeat an n-gram banned (a new tensor; the model's output is not changed)."""
    penalty, n = params.repetition_penalty, params.no_repeat_ngram_size
    if not generated or (penalty == 1.0 and n == 0):
        return logits
    import torch

    logits = logits.clone()
    if penalty != 1.0:
        seen = torch.tensor(sorted(set(generated)), dtype=torch.long)
        scores = logits[seen]
        logits[seen] = torch.where(scores > 0, scores / penalty, scores * penalty)
    if n and len(generated) >= n:
        prefix = tuple(generated[len(generated) - n + 1 :])
        banned = [
            generated[i + n - 1]
            for i in range(len(generated) - n + 1)
            if tuple(generated[i : i + n - 1]) == prefix
        ]
        if banned:
            logits[torch.tensor(banned, dtype=torch.long)] = float("-inf")
    return logits


def pick(logits: Any, params: SamplingParams, generator: Any) -> int:
    """Greedy at temperature 0, else temperature + nucleus (top-p) sampling."""
    import torch

    if params.temperature == 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        # keep the smallest head whose mass reaches top_p (the first token is always kept)
        keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < params.top_p
        choice = torch.multinomial(sorted_probs * keep, 1, generator=generator)
        return int(order[choice])
    return int(torch.multinomial(probs, 1, generator=generator))
