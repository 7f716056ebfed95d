"""Who is calling, what they may do, and whether their budget allows it: one dependency.

Routes declare ``caller: Caller = Depends(require("chat"))``. With ``auth=auto`` (the default)
keys are optional until the first one is created, so ``docent up`` works with no set-up; once a
key exists (or with ``auth=required``) every API call needs ``Authorization: Bearer <key>`` (or
``X-API-Key``). A Docent key (``dk_...``) that is sent is always checked, and always rate
limited; while no key is needed, a placeholder token (OpenAI clients send ``EMPTY``) is ignored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from services.gateway.access.keys import TOKEN_PREFIX, ApiKey, KeyStore, open_key_store
from services.gateway.access.ratelimit import RATE_LIMITERS, RateLimiter
from services.gateway.chat.events import ChatEvent, DoneEvent
from services.gateway.conversations.store import ANONYMOUS
from services.gateway.settings import GatewaySettings

ANY_KEY_TTL_S = 1.0  # how long "does any key exist?" is trusted under auth=auto


@dataclass
class Caller:
    """The authenticated caller of one request (``key`` is None when anonymous)."""

    key: ApiKey | None
    auth: Auth | None = field(default=None, repr=False)

    @property
    def owner(self) -> str:
        """Whose conversations these are: the key id, or ``anonymous``."""
        return self.key.id if self.key else ANONYMOUS

    async def charge(self, tokens: int) -> None:
        """Take the tokens a finished request used from the key's token budget."""
        if self.key is not None and self.auth is not None and tokens > 0:
            rpm, tpm = self.auth.limits(self.key)
            await self.auth.limiter.take(self.key.id, rpm, tpm, 0, tokens, admit=False)


class Auth:
    """Key store, limiter and policy of one gateway process (``app.state.auth``)."""

    def __init__(self, settings: GatewaySettings, keys: KeyStore, limiter: RateLimiter) -> None:
        self.settings, self.keys, self.limiter = settings, keys, limiter
        self._any_key: tuple[float, bool] = (0.0, False)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Auth:
        limiter = RATE_LIMITERS.get(settings.store)(settings)
        return cls(settings, open_key_store(settings), limiter)

    async def close(self) -> None:
        await self.limiter.close()
        self.keys.close()

    def limits(self, key: ApiKey) -> tuple[int, int]:
        rpm = key.rpm if key.rpm is not None else self.settings.rate_limit_rpm
        tpm = key.tpm if key.tpm is not None else self.settings.rate_limit_tpm
        return rpm, tpm

    async def required(self) -> bool:
        if self.settings.auth != "auto":
            return self.settings.auth == "required"
        checked, exists = self._any_key
        if time.monotonic() - checked > ANY_KEY_TTL_S:
            # Stamped before the read: a thread that waited for the event loop must not make an
            # old "no key yet" look fresh.
            started = time.monotonic()
            exists = await asyncio.to_thread(self.keys.any_active)
            self._any_key = max(self._any_key, (started, exists))
        return exists

    async def authenticate(self, request: Request, scope: str) -> Caller:
        """The caller, admitted by the rate limiter; raises 401 / 403 / 429."""
        if self.settings.auth == "disabled":
            return Caller(None)
        token = presented_token(request)
        if token is None:
            if await self.required():
                raise HTTPException(
                    401,
                    "an API key is required: send 'Authorization: Bearer <key>'",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return Caller(None)
        key = await asyncio.to_thread(self.keys.lookup, token)
        if key is None:
            if not token.startswith(TOKEN_PREFIX) and not await self.required():
                # A placeholder such as "EMPTY" (OpenAI clients insist on some api_key) on a
                # gateway that needs none; anything shaped like a Docent key is still checked.
                return Caller(None)
            raise HTTPException(
                401, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
            )
        if not key.allows(scope):
            raise HTTPException(403, f"this API key lacks the {scope!r} scope")
        rpm, tpm = self.limits(key)
        verdict = await self.limiter.take(key.id, rpm, tpm, 1, 0, admit=True)
        headers = verdict.headers()
        if not verdict.allowed:
            raise HTTPException(429, "rate limit exceeded for this API key", headers=headers)
        request.state.ratelimit_headers = headers
        return Caller(key, self)


def presented_token(request: Request) -> str | None:
    """The key from ``Authorization: Bearer`` or ``X-API-Key``, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip() or None


def require(scope: str) -> Callable[[Request], Awaitable[Caller]]:
    """A FastAPI dependency admitting callers allowed ``scope`` (chat, ingest or admin)."""

    async def dependency(request: Request) -> Caller:
        return await request.app.state.auth.authenticate(request, scope)

    dependency.__name__ = f"require_{scope}"
    return dependency


async def metered(
    events: AsyncGenerator[ChatEvent, None], caller: Caller
) -> AsyncGenerator[ChatEvent, None]:
    """Pass ``events`` through, charging the ``done`` event's usage to the caller's key."""
    async with aclosing(events) as source:
        async for event in source:
            if isinstance(event, DoneEvent):
                usage = event.done.usage
                await caller.charge(usage.prompt_tokens + usage.completion_tokens)
            yield event


AUTH_ERRORS = (401, 403, 429)
# Route parameter types: ``async def route(caller: ChatCaller) -> ...``.
ChatCaller = Annotated[Caller, Depends(require("chat"))]
IngestCaller = Annotated[Caller, Depends(require("ingest"))]
AdminCaller = Annotated[Caller, Depends(require("admin"))]
