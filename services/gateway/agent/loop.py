"""The ReAct loop: thought → action → observation, until the model answers or a limit stops it.

Each step asks the generation service for one action under the action JSON schema (so a small
model can only name a registered tool with arguments of that tool's schema, or answer), runs
the tool through the registry (every failure comes back as an error observation the model can
recover from) and appends the observation. The loop stops on an answer, or forces one when it
hits ``max_steps``, the token budget, the context window, or the model repeating an action.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import Status, StatusCode

from docent.v1 import moderation_pb2
from docentlib.agent.protocol import (
    Action,
    FinalAnswer,
    Step,
    ToolCall,
    action_schema,
    messages_for,
    parse_action,
    system_prompt,
)
from docentlib.errors import DocentError, InvalidInput
from services.gateway.agent import metrics
from services.gateway.agent.events import (
    ActionEvent,
    AgentDoneEvent,
    AgentErrorEvent,
    AgentEvent,
    AnswerEvent,
    ObservationEvent,
    ThoughtEvent,
)
from services.gateway.agent.schemas import AgentDone, AgentMetadata, AgentRequest, TraceStep
from services.gateway.agent.settings import AgentSettings
from services.gateway.agent.tools.base import RunContext, ToolError
from services.gateway.agent.tools.registry import ToolRegistry
from services.gateway.chat.output_guard import WindowCheck
from services.gateway.chat.prompt import extract_citations
from services.gateway.chat.safety import (
    check_input,
    count_refusal,
    main_category,
    output_refusal,
    refusal_for,
)
from services.gateway.chat.schemas import Usage
from services.gateway.chat.sources import attribute, citation_suffix
from services.gateway.http.errors import domain_error, internal_error
from services.runtime.clients import GenerationClient, ModerationClient
from services.runtime.context import get_request_id
from services.runtime.tracing import tracer

Events = AsyncGenerator[AgentEvent, None]  # what a run streams

_tracer = tracer("services.gateway")
UNTRUSTED_TOOLS = frozenset({"wikipedia", "search_docs"})  # text others wrote
WITHHELD = "[withheld: the result carried instructions to the assistant]"
FINISH_NOW = "Give the final answer now with what you know."
NOTES = {
    "max_steps": f"You have used every step. {FINISH_NOW}",
    "token_budget": f"The token budget is spent. {FINISH_NOW}",
    "repeated_action": f"You already made this call; its result is above. {FINISH_NOW}",
    "invalid_action": f"Your last reply was not a valid action. {FINISH_NOW}",
}
GAVE_UP = "Sorry, I could not finish: {why}."
RAN_OUT = {
    "context_full": "the question and the steps so far fill the model's context window",
    "token_budget": "the token budget ran out",
}


class InvalidAction(Exception):
    """The model's reply is not an action (an unconstrained engine, or cut off by max_tokens)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContextFull(Exception):
    """The next step would not fit the model's window or the run's token budget."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class AgentRun:
    """One run's state: the steps so far, the trace, sources, usage and timings."""

    question: str
    adapter: str
    max_steps: int
    trace_context: Context
    request_id: str | None = None
    steps: list[Step] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    context: RunContext = field(default_factory=RunContext)
    usage: Usage = field(default_factory=Usage)
    timings: dict[str, float] = field(default_factory=dict)
    tools_used: list[str] = field(default_factory=list)
    tool_errors: int = 0
    withheld: int = 0
    refusal: str | None = None
    flagged: list[str] = field(default_factory=list)
    moderation: str | None = None
    citation_mode: str = "none"
    started: float = field(default_factory=time.perf_counter)

    def add_time(self, name: str, seconds: float) -> None:
        self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 6)


class Agent:
    """Usage::

    agent = Agent(AgentSettings(), generation, moderation, registry, output_check)
    run = await agent.start(AgentRequest(question="..."))   # input moderation, before the response
    async for event in agent.events(run): ...
    """

    def __init__(
        self,
        settings: AgentSettings,
        generation: GenerationClient,
        moderation: ModerationClient,
        registry: ToolRegistry,
        output_check: WindowCheck | None,
        *,
        domain: str = "",
        input_moderation: bool = True,
        check_observations: bool = True,
    ) -> None:
        self.settings, self.generation, self.moderation = settings, generation, moderation
        self.registry, self.output_check, self.domain = registry, output_check, domain
        self.input_moderation, self.check_observations = input_moderation, check_observations
        self.system = system_prompt(registry.specs)
        self.schema = json.dumps(action_schema(registry.specs))
        self.answer_schema = json.dumps(action_schema(registry.specs, allow_tools=False))

    async def start(self, request: AgentRequest) -> AgentRun:
        """A new run; the question is moderated here so a refusal or a failure is an HTTP answer."""
        s = self.settings
        run = AgentRun(
            question=request.question,
            adapter=s.adapter if request.adapter is None else request.adapter,
            max_steps=request.max_steps or s.max_steps,
            trace_context=otel_context.get_current(),
            request_id=get_request_id(),
        )
        if self.input_moderation:
            begun = time.perf_counter()
            with _tracer.start_as_current_span("gateway.agent.moderation"):
                flagged = await check_input(self.moderation, run.question)
            run.add_time("moderation", time.perf_counter() - begun)
            if flagged:
                run.refusal, run.flagged, run.moderation = (
                    refusal_for(flagged, self.domain),
                    flagged,
                    "input",
                )
                count_refusal(main_category(flagged))
        return run

    async def events(self, run: AgentRun) -> Events:
        """``thought``/``action``/``observation`` per step, then ``answer`` and ``done``."""
        if run.refusal is not None:
            yield AnswerEvent(run.refusal, [])
            yield self._done(run, run.refusal, "refused")
            return
        try:
            async for event in self._loop(run):
                yield event
        except Exception as exc:  # the generation service failed mid-run
            if isinstance(exc, DocentError):
                status, body = domain_error(exc)
            else:
                status, body = internal_error(exc)
            metrics.RUNS.labels("error").inc()
            yield AgentErrorEvent(exc, status, body)

    async def _loop(self, run: AgentRun) -> Events:
        stop: str | None = None
        while True:
            step_no = len(run.steps) + 1
            try:
                action, seconds = await self._next_action(run, forced=stop is not None)
            except ContextFull as full:
                if stop is None and run.steps:  # one forced answer may still fit
                    stop = self._force(run, full.reason)
                    continue
                answer = GAVE_UP.format(why=RAN_OUT[full.reason])
                async for event in self._finish(run, answer, stop or full.reason):
                    yield event
                return
            except InvalidAction as bad:
                run.trace.append(
                    TraceStep(
                        step=step_no,
                        thought="",
                        error="invalid_action",
                        observation=bad.message,
                        generation_s=0.0,
                    )
                )
                if stop is None and run.steps:
                    stop = self._force(run, "invalid_action")
                    continue
                answer = GAVE_UP.format(why="the model's reply was not a valid action")
                async for event in self._finish(run, answer, "invalid_action"):
                    yield event
                return
            if flagged := await self._moderate_output(run, _model_text(action)):
                async for event in self._refuse_output(run, flagged):
                    yield event
                return
            if action.thought:
                yield ThoughtEvent(step_no, action.thought)
            if isinstance(action, FinalAnswer):
                run.trace.append(
                    TraceStep(step=step_no, thought=action.thought, generation_s=seconds)
                )
                async for event in self._finish(run, action.answer, stop or "answer"):
                    yield event
                return
            yield ActionEvent(step_no, action.tool, action.arguments)
            if any(
                isinstance(s.action, ToolCall) and s.action.key() == action.key() for s in run.steps
            ):
                observation = ObservationEvent(
                    step_no, action.tool, f"Error: {NOTES['repeated_action']}", "repeated_action"
                )
                run.steps.append(Step(action, observation.text, error=True))
                run.trace.append(self._trace(step_no, action, observation, seconds))
                yield observation
                stop = "repeated_action"
                continue
            observation = await self._call_tool(run, step_no, action)
            run.steps.append(Step(action, observation.text, error=observation.error is not None))
            run.trace.append(self._trace(step_no, action, observation, seconds))
            yield observation
            if (
                stop is None
                and sum(isinstance(s.action, ToolCall) for s in run.steps) >= run.max_steps
            ):
                stop = self._force(run, "max_steps")

    def _force(self, run: AgentRun, reason: str) -> str:
        """Tell the model to answer now (the next step may only answer); returns the reason."""
        if run.steps and run.steps[-1].observation is not None:
            last = run.steps[-1]
            if last.observation is not None and NOTES.get(reason, "") not in last.observation:
                last.observation = f"{last.observation}\n{NOTES.get(reason, FINISH_NOW)}"
        return reason

    async def _next_action(self, run: AgentRun, forced: bool) -> tuple[Action, float]:
        """One model call under the action schema (answer-only when ``forced``)."""
        s = self.settings
        messages = messages_for(self.system, run.question, run.steps)
        prompt_tokens, max_len = await self.generation.count_tokens(messages)
        if prompt_tokens + s.step_max_tokens > max_len:
            raise ContextFull("context_full")
        spent = run.usage.prompt_tokens + run.usage.completion_tokens
        if not forced and spent + prompt_tokens + s.step_max_tokens > s.token_budget:
            raise ContextFull("token_budget")  # the forced answer may still take one step
        schema = (self.answer_schema if forced else self.schema) if s.constrained else None
        begun = time.perf_counter()
        text = ""
        with _tracer.start_as_current_span("gateway.agent.step", context=run.trace_context) as span:
            span.set_attribute("agent.step", len(run.steps) + 1)
            span.set_attribute("agent.forced", forced)
            stream = self.generation.generate(
                messages,
                max_tokens=s.step_max_tokens,
                temperature=0.0,
                adapter=run.adapter,
                json_schema=schema,
            )
            async for reply in stream:
                text += reply.text
                if reply.HasField("usage"):
                    run.usage.prompt_tokens += reply.usage.prompt_tokens
                    run.usage.completion_tokens += reply.usage.completion_tokens
        seconds = time.perf_counter() - begun
        metrics.STEP_SECONDS.observe(seconds)
        run.add_time("generation", seconds)
        try:
            action = parse_action(text)
        except InvalidInput as exc:
            raise InvalidAction(exc.message) from None
        if forced and not isinstance(action, FinalAnswer):
            raise InvalidAction("the model called a tool when it had to answer")
        return action, seconds

    async def _call_tool(self, run: AgentRun, step_no: int, action: ToolCall) -> ObservationEvent:
        """Run the tool; an error becomes an observation starting with ``Error:``."""
        begun = time.perf_counter()
        error: str | None = None
        with _tracer.start_as_current_span("gateway.agent.tool", context=run.trace_context) as span:
            span.set_attribute("agent.tool.name", action.tool)
            span.set_attribute("agent.step", step_no)
            try:
                text = (await self.registry.call(action.tool, action.arguments, run.context)).text
            except ToolError as exc:
                error, text = exc.kind, f"Error: {exc.message}"
                span.set_status(Status(StatusCode.ERROR, exc.message))
                span.set_attribute("agent.tool.error", exc.kind)
            span.set_attribute("agent.tool.outcome", "error" if error else "ok")
        seconds = time.perf_counter() - begun
        run.add_time("tools", seconds)
        metrics.TOOL_SECONDS.labels(action.tool, "error" if error else "ok").observe(seconds)
        if action.tool not in run.tools_used and action.tool in self.registry.tools:
            run.tools_used.append(action.tool)
        if error:
            run.tool_errors += 1
            metrics.TOOL_ERRORS.labels(_tool_label(action.tool, self.registry), error).inc()
        elif self.check_observations and action.tool in UNTRUSTED_TOOLS:
            text = await self._screen(run, text)
        text = _cut(text, self.settings.observation_chars)
        return ObservationEvent(step_no, action.tool, text, error, seconds)

    async def _screen(self, run: AgentRun, text: str) -> str:
        """Withhold an observation that carries a prompt injection (chat's passage check)."""
        begun = time.perf_counter()
        # Only the passage verdict counts here: a tool's text is not judged for scope.
        reply = await self.moderation.check_context(run.question, [text])
        run.add_time("moderation", time.perf_counter() - begun)
        if any(v.decision == moderation_pb2.DECISION_BLOCK for v in reply.passages):
            run.withheld += 1
            return WITHHELD
        return text

    async def _moderate_output(self, run: AgentRun, text: str) -> list[str]:
        if self.output_check is None or not text.strip():
            return []
        begun = time.perf_counter()
        flagged = await self.output_check(text)
        run.add_time("moderation", time.perf_counter() - begun)
        return flagged

    async def _refuse_output(self, run: AgentRun, flagged: list[str]) -> Events:
        refusal = output_refusal(flagged)
        run.refusal, run.flagged, run.moderation = refusal, flagged, "output"
        count_refusal(f"output_{main_category(flagged)}")
        yield AnswerEvent(refusal, run.tools_used)
        yield self._done(run, refusal, "refused")

    async def _finish(self, run: AgentRun, answer: str, reason: str) -> Events:
        """The answer with its owed citations and the tools it used, then ``done``."""
        text = answer.strip()
        if run.context.sources:
            if extract_citations(text, len(run.context.sources)):
                run.citation_mode = "model"
            elif numbers := attribute(text, [s.text for s in run.context.sources]):
                run.citation_mode = "attributed"
                text += citation_suffix(numbers)
        used = ", ".join(run.tools_used) if run.tools_used else "none"
        text = f"{text}\n\nTools used: {used}."
        yield AnswerEvent(text, list(run.tools_used))
        yield self._done(run, text, reason)

    def _done(self, run: AgentRun, answer: str, reason: str) -> AgentDoneEvent:
        run.add_time("total", time.perf_counter() - run.started)
        metrics.RUNS.labels(reason).inc()
        metrics.STEPS.observe(len(run.trace))
        citations = extract_citations(answer, len(run.context.sources))
        done = AgentDone(
            answer=answer,
            tools_used=list(run.tools_used),
            citations=citations,
            sources=run.context.sources,
            steps=run.trace,
            usage=run.usage,
            timings=run.timings,
            metadata=AgentMetadata(
                stop_reason=reason,
                refused=run.moderation is not None,
                flagged_categories=run.flagged,
                moderation=run.moderation,
                adapter=run.adapter,
                constrained=self.settings.constrained,
                tool_errors=run.tool_errors,
                withheld_observations=run.withheld,
                citation_mode=run.citation_mode,
                request_id=run.request_id,
            ),
        )
        return AgentDoneEvent(done)

    def _trace(
        self, step_no: int, action: ToolCall, observation: ObservationEvent, seconds: float
    ) -> TraceStep:
        return TraceStep(
            step=step_no,
            thought=action.thought,
            tool=action.tool,
            arguments=action.arguments,
            observation=observation.text,
            error=observation.error,
            generation_s=round(seconds, 6),
            tool_s=round(observation.seconds, 6),
        )

    async def close(self) -> None:
        await self.registry.close()


def _model_text(action: Action) -> str:
    """What the model wrote in a step, for output moderation."""
    if isinstance(action, FinalAnswer):
        return f"{action.thought}\n{action.answer}"
    return f"{action.thought}\n{json.dumps(action.arguments, ensure_ascii=False)}"


def _tool_label(name: str, registry: ToolRegistry) -> str:
    """Known tools by name; anything the model invented as ``unknown`` (bounded labels)."""
    return name if name in registry.tools else "unknown"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
