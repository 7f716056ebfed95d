"""``docent up``: start every component as its own process, wait on health, stop them cleanly.

Children run in their own sessions so that a Ctrl-C reaches only the supervisor, which then
sends SIGTERM to each child (letting it drain) and SIGKILL to any that outlive the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from docent_cli.stack import Component, component_env
from services.runtime.clients import health_status


class StackError(RuntimeError):
    """A component exited or did not become ready in time."""


class Supervisor:
    """Owns the child processes of one ``docent up``."""

    def __init__(self, components: list[Component], home: Path, log_dir: Path) -> None:
        self.components = components
        self.home = home
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for c in self.components:
            log = open(self.log_dir / f"{c.name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[c.name] = subprocess.Popen(
                [sys.executable, "-m", c.module],
                env=component_env(c, self.components, self.home),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    async def status(self, c: Component) -> str:
        """SERVING / NOT_SERVING / UNREACHABLE / EXITED(code)."""
        proc = self.procs.get(c.name)
        if proc is not None and proc.poll() is not None:
            return f"EXITED({proc.returncode})"
        if c.grpc_port is not None:
            return await health_status(f"127.0.0.1:{c.grpc_port}")
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                reply = await client.get(f"http://127.0.0.1:{c.http_port}/healthz")
            return "SERVING" if reply.status_code == 200 else "NOT_SERVING"
        except httpx.HTTPError:
            return "UNREACHABLE"

    async def wait_ready(self, timeout: float, on_change=None) -> dict[str, str]:
        """Poll until every required component serves; raise :class:`StackError` otherwise."""
        deadline = time.monotonic() + timeout
        last: dict[str, str] = {}
        while True:
            states = {c.name: await self.status(c) for c in self.components}
            if on_change and states != last:
                on_change(states)
            last = states
            for name, state in states.items():
                if state.startswith("EXITED"):
                    raise StackError(f"{name} exited ({state}); its log:\n{self.log_tail(name)}")
            if all(states[c.name] == "SERVING" for c in self.components if c.required):
                return states
            if time.monotonic() > deadline:
                waiting = [
                    c.name for c in self.components if c.required and states[c.name] != "SERVING"
                ]
                raise StackError(f"not ready after {timeout:.0f}s: {', '.join(waiting)}")
            await asyncio.sleep(0.5)

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every child, wait up to ``grace`` seconds, then SIGKILL what is left."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(remaining)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def exited(self) -> list[str]:
        return [name for name, p in self.procs.items() if p.poll() is not None]
