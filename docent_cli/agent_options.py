"""Options ``docent agent`` and ``docent eval agent`` share (same names, same help)."""

from __future__ import annotations

from typing import Annotated

import typer

ApiKey = Annotated[str | None, typer.Option(envvar="DOCENT_API_KEY", help="API key (chat scope).")]
Adapter = Annotated[
    str | None,
    typer.Option(help="LoRA adapter to act with (default: the gateway's; '' for the base)."),
]
MaxSteps = Annotated[int | None, typer.Option(min=1, max=20, help="Most tool calls.")]
