"""What the agent's model reads and writes: the system prompt, the action grammar, observations.

One module for the gateway's agent loop, the trajectory generator that trains the adapter and
the evaluator, so what the model is trained on is byte for byte what it is served.

A step is one assistant message holding one JSON object, either a tool call::

    {"thought": "...", "tool": "weather", "arguments": {"location": "Paris"}}

or the final answer::

    {"thought": "...", "answer": "It is 14.3 °C in Paris."}

The tool's result comes back as the next user message, ``Observation: <text>``. The JSON schema
of that object (:func:`action_schema`) is what constrained decoding enforces: the tool name is
one of the registry's and the arguments follow that tool's own schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docentlib.errors import InvalidInput

THOUGHT_CHARS = 200
ANSWER_CHARS = 400
OBSERVATION_PREFIX = "Observation: "
# Separators the grammar forces and the training data uses, so both agree on every byte.
ITEM_SEPARATOR, KEY_SEPARATOR = ", ", ": "


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: its name, what it does and its arguments' JSON schema.

    Usage::

        ToolSpec("calculator", "arithmetic", {"type": "object", ...})
    """

    name: str
    description: str
    parameters: Mapping[str, Any]

    def signature(self) -> str:
        """``weather(location: string)``: the one line the prompt lists."""
        props = self.parameters.get("properties", {})
        args = ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in props.items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class ToolCall:
    """The model asked for a tool."""

    thought: str
    tool: str
    arguments: dict[str, Any]

    def key(self) -> str:
        """Identity of the action, to spot the model repeating itself."""
        return f"{self.tool}:{json.dumps(self.arguments, sort_keys=True)}"


@dataclass(frozen=True)
class FinalAnswer:
    """The model is done."""

    thought: str
    answer: str


Action = ToolCall | FinalAnswer


@dataclass
class Step:
    """One step of a trajectory: the action and, for a tool call, what came back."""

    action: Action
    observation: str | None = None
    error: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def system_prompt(tools: Sequence[ToolSpec]) -> str:
    """The instructions and the tool list, kept short: every step re-reads them (prefill)."""
    lines = ["Answer the question with tools, one call per step, then answer.", "Tools:"]
    lines += [f"- {tool.signature()}: {tool.description}" for tool in tools]
    lines += [
        'Reply with JSON: {"thought": "...", "tool": "<tool>", "arguments": {...}} or '
        '{"thought": "...", "answer": "..."}.',
        "Copy numbers from the tools exactly. Cite search_docs results as [n].",
    ]
    return "\n".join(lines)


def action_schema(tools: Sequence[ToolSpec], allow_tools: bool = True) -> dict[str, Any]:
    """The JSON schema of one step: a call of one of ``tools`` or the final answer.

    ``allow_tools=False`` leaves only the answer (the last step, forced when the loop stops).
    Property order is the order the grammar writes them in: thought first.
    """
    thought = {"type": "string", "maxLength": THOUGHT_CHARS}
    answer = {
        "type": "object",
        "properties": {
            "thought": thought,
            "answer": {"type": "string", "minLength": 1, "maxLength": ANSWER_CHARS},
        },
        "required": ["thought", "answer"],
        "additionalProperties": False,
    }
    branches: list[dict[str, Any]] = []
    if allow_tools:
        for tool in tools:
            branches.append(
                {
                    "type": "object",
                    "properties": {
                        "thought": thought,
                        "tool": {"const": tool.name},
                        "arguments": dict(tool.parameters),
                    },
                    "required": ["thought", "tool", "arguments"],
                    "additionalProperties": False,
                }
            )
    branches.append(answer)
    schema: dict[str, Any] = {"anyOf": branches} if len(branches) > 1 else answer
    schema["x-guidance"] = {
        "whitespace_flexible": False,
        "item_separator": ITEM_SEPARATOR,
        "key_separator": KEY_SEPARATOR,
    }
    return schema


def render_action(action: Action) -> str:
    """The assistant message of a step, as the grammar makes the model write it."""
    if isinstance(action, FinalAnswer):
        body: dict[str, Any] = {"thought": action.thought, "answer": action.answer}
    else:
        body = {"thought": action.thought, "tool": action.tool, "arguments": action.arguments}
    return json.dumps(body, ensure_ascii=False, separators=(ITEM_SEPARATOR, KEY_SEPARATOR))


def render_observation(text: str) -> str:
    return f"{OBSERVATION_PREFIX}{text}"


def parse_action(text: str) -> Action:
    """The action in a model's message; :class:`InvalidInput` naming what is wrong.

    Constrained decoding makes this total on the transformers and vLLM engines; an engine that
    cannot constrain (or a truncated message) still gets a clear error the loop reports.
    """
    start = text.find("{")
    try:
        body, _ = json.JSONDecoder().raw_decode(text[start:] if start >= 0 else text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the model's step is not a JSON object: {exc.msg}") from None
    if not isinstance(body, dict):
        raise InvalidInput("the model's step is not a JSON object")
    thought = str(body.get("thought", ""))
    if "answer" in body:
        return FinalAnswer(thought, str(body["answer"]))
    if "tool" in body:
        arguments = body.get("arguments", {})
        if not isinstance(arguments, dict):
            raise InvalidInput("the model's step has arguments that are not an object")
        return ToolCall(thought, str(body["tool"]), arguments)
    raise InvalidInput("the model's step has neither a tool nor an answer")


def messages_for(system: str, question: str, steps: Sequence[Step]) -> list[tuple[str, str]]:
    """The conversation the model continues: system, question, then action/observation pairs."""
    messages = [("system", system), ("user", question)]
    for step in steps:
        messages.append(("assistant", render_action(step.action)))
        if step.observation is not None:
            messages.append(("user", render_observation(step.observation)))
    return messages
