"""``docent keys create|list|revoke``: API keys of the gateway, in its own store.

The commands open the store the gateway would open with the same environment (SQLite under
``$DOCENT_HOME/gateway`` by default, Redis with ``DOCENT_GATEWAY_STORE=redis``), so a key created
here works at once: with the default ``auth=auto`` the first key also switches keys on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from docentlib.errors import DocentError
from services.gateway.access.keys import SCOPES, ApiKey, KeyStore

app = typer.Typer(help="Create, list and revoke the gateway's API keys.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@contextmanager
def _store() -> Iterator[KeyStore]:
    from services.gateway.access.keys import open_key_store
    from services.gateway.settings import GatewaySettings

    try:
        store = open_key_store(GatewaySettings())
    except Exception as exc:  # a bad setting or an unreachable Redis: say which
        _fail(f"cannot open the key store: {exc}")
    try:
        yield store
    except DocentError as exc:
        _fail(exc.message)
    except Exception as exc:
        _fail(f"key store error: {type(exc).__name__}: {exc}")
    finally:
        store.close()


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _limit(value: int | None) -> str:
    return "default" if value is None else ("unlimited" if value == 0 else str(value))


@app.command()
def create(
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help=f"Repeatable: one of {', '.join(SCOPES)} (default: chat)."),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option(help="Requests per minute (default: the gateway's; 0: none).")
    ] = None,
    tpm: Annotated[
        int | None, typer.Option(help="Tokens per minute (default: the gateway's; 0: none).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key as JSON.")] = False,
) -> None:
    """Create a key and print its secret (shown once; only a hash is stored)."""
    with _store() as store:
        key, token = store.create(name, scope or ["chat"], rpm, tpm)
    if as_json:
        typer.echo(json.dumps({**key.public(), "key": token}))
        return
    typer.echo(f"created {key.id} ({key.name}; scopes: {', '.join(key.scopes)})")
    typer.echo(f"key: {token}")
    typer.echo("Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <key>'.")


@app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print the keys as JSON.")] = False,
) -> None:
    """Every key (secrets are never shown), revoked ones included."""
    with _store() as store:
        keys: list[ApiKey] = store.list()
    if as_json:
        typer.echo(json.dumps([k.public() for k in keys]))
        return
    if not keys:
        typer.echo("no API keys (the gateway does not require one under auth=auto)")
        return
    header = f"{'ID':<17}{'NAME':<20}{'SCOPES':<20}{'RPM':<10}{'TPM':<10}{'CREATED':<22}STATUS"
    typer.echo(header)
    for k in keys:
        status = "active" if k.active else f"revoked {_when(k.revoked_at)}"
        typer.echo(
            f"{k.id:<17}{k.name[:19]:<20}{','.join(k.scopes):<20}{_limit(k.rpm):<10}"
            f"{_limit(k.tpm):<10}{_when(k.created_at):<22}{status}"
        )


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_...).")]) -> None:
    """Revoke a key: the gateway refuses it from the next request on."""
    with _store() as store:
        key = store.revoke(key_id)
    typer.echo(f"revoked {key.id} ({key.name})")
