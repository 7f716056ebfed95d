"""Constrained decoding for the transformers engine: llguidance masks each row's logits.

A request's JSON schema or Lark grammar is compiled once (llguidance's Earley parser over the
model's own tokenizer); its :class:`TokenConstraint` then masks the logits of that row only,
before every token is picked, and advances with the token that was picked. Rows without a
constraint are never touched, so they decode exactly as they would alone. When the grammar is
complete the mask leaves only end-of-sequence, so a constrained completion always parses.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from docentlib.errors import InvalidInput
from services.generation.engines.base import Structured

MAX_SPEC_CHARS = 100_000
CACHED_GRAMMARS = 32


class ConstraintCompiler:
    """Compiles constraints against one tokenizer (wrapping it for llguidance once, ~1-2 s).

    Usage::

        compiler = ConstraintCompiler(hf_tokenizer, vocab_size=model.config.vocab_size)
        constraint = compiler.compile(Structured("json_schema", '{"type": "object"}'))
    """

    def __init__(self, hf_tokenizer: Any, vocab_size: int) -> None:
        self._hf = hf_tokenizer
        self.vocab_size = vocab_size
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        # Compiled matchers by spec, copied per sequence: an agent sends the same schema every
        # step, and compiling (plus the lexer warming up on the first mask) takes seconds.
        self._compiled: OrderedDict[Structured, Any] = OrderedDict()

    def _llg_tokenizer(self) -> Any:
        """llguidance's view of the tokenizer, built on first use (call with the lock held)."""
        if self._tokenizer is None:
            import llguidance.hf

            self._tokenizer = llguidance.hf.from_tokenizer(self._hf)
        return self._tokenizer

    def compile(self, structured: Structured) -> TokenConstraint:
        """A fresh constraint for one sequence; :class:`InvalidInput` for a bad spec."""
        return TokenConstraint(self._matcher(structured).deep_copy(), self.vocab_size)

    def _matcher(self, structured: Structured) -> Any:
        """The compiled matcher of ``structured``; compiled once even when many ask at once."""
        from llguidance import LLMatcher

        with self._lock:  # compiling is rare and slow: concurrent requests wait for one compile
            if (cached := self._compiled.get(structured)) is not None:
                self._compiled.move_to_end(structured)
                return cached
            grammar = grammar_of(structured)
            matcher = LLMatcher(self._llg_tokenizer(), grammar, log_level=0)
            if matcher.is_error():
                raise InvalidInput(
                    f"structured output {structured.kind} rejected: {matcher.get_error()}"
                )
            self._compiled[structured] = matcher
            while len(self._compiled) > CACHED_GRAMMARS:
                self._compiled.popitem(last=False)
            return matcher


def grammar_of(structured: Structured) -> str:
    """The llguidance grammar of a JSON schema or Lark text; :class:`InvalidInput` when bad."""
    from llguidance import LLMatcher

    if not structured.spec.strip():
        raise InvalidInput(f"structured output {structured.kind} is empty")
    if len(structured.spec) > MAX_SPEC_CHARS:
        raise InvalidInput(f"structured output is longer than {MAX_SPEC_CHARS} characters")
    if structured.kind == "json_schema":
        try:
            schema = json.loads(structured.spec)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"json_schema is not valid JSON: {exc.msg}") from None
        if not isinstance(schema, dict):
            raise InvalidInput("json_schema must be a JSON object")
        try:
            return LLMatcher.grammar_from_json_schema(schema)
        except ValueError as exc:
            raise InvalidInput(f"json_schema rejected: {exc}") from None
    if structured.kind == "grammar":
        return LLMatcher.grammar_from_lark(structured.spec)
    raise InvalidInput(f"unknown structured output kind {structured.kind!r}")


class TokenConstraint:
    """One sequence's grammar state: masks its logits row, advances with each picked token."""

    def __init__(self, matcher: Any, vocab_size: int) -> None:
        import llguidance.torch

        self._matcher = matcher
        self._vocab = vocab_size
        self._bitmask = llguidance.torch.allocate_token_bitmask(1, vocab_size)

    def mask(self, logits: Any) -> Any:
        """A copy of ``logits`` (1-D, this row) with every token the grammar forbids at -inf."""
        import llguidance.torch

        llguidance.torch.fill_next_token_bitmask(self._matcher, self._bitmask, 0)
        row = logits.float().clone().unsqueeze(0)
        llguidance.torch.apply_token_bitmask_inplace(row, self._bitmask)
        return row[0]

    def advance(self, token: int) -> None:
        """Consume the picked token (always one the mask allowed)."""
        if not self._matcher.consume_token(token):
            raise RuntimeError(f"constrained decoding failed: {self._matcher.get_error()}")

    @property
    def done(self) -> bool:
        """The grammar accepts no more tokens (end-of-sequence is all that is left)."""
        return bool(self._matcher.is_stopped())
