"""``docent keys``: create, list, revoke against the SQLite store the gateway reads."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from docent_cli.main import app
from services.gateway.access.keys import hash_secret, open_key_store
from services.gateway.settings import GatewaySettings

runner = CliRunner()


def test_create_list_revoke_round_trip() -> None:
    made = runner.invoke(app, ["keys", "create", "--name", "ci", "--scope", "chat",
                               "--scope", "ingest", "--rpm", "30", "--json"])  # fmt: skip
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["key"].startswith("dk_") and key["scopes"] == ["chat", "ingest"]
    assert key["rpm"] == 30 and key["tpm"] is None and "hash" not in key
    store = open_key_store(GatewaySettings())
    stored = store.lookup(key["key"])
    assert stored is not None and stored.id == key["id"]
    assert stored.hash == hash_secret(key["key"]) and key["key"] not in json.dumps(stored.public())
    store.close()

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0
    assert key["id"] in listed.stdout and "chat,ingest" in listed.stdout
    assert "active" in listed.stdout and key["key"] not in listed.stdout

    revoked = runner.invoke(app, ["keys", "revoke", key["id"]])
    assert revoked.exit_code == 0 and f"revoked {key['id']}" in revoked.stdout
    rows = json.loads(runner.invoke(app, ["keys", "list", "--json"]).stdout)
    assert rows[0]["revoked_at"] is not None
    store = open_key_store(GatewaySettings())
    assert store.lookup(key["key"]) is None and not store.any_active()
    store.close()


def test_plain_create_prints_the_secret_once_with_a_warning() -> None:
    made = runner.invoke(app, ["keys", "create", "--name", "me"])
    assert made.exit_code == 0
    assert "scopes: chat" in made.stdout and "cannot be shown again" in made.stdout
    assert runner.invoke(app, ["keys", "list"]).stdout.count("dk_") == 0


def test_bad_input_is_a_message_and_exit_1() -> None:
    empty = runner.invoke(app, ["keys", "list"])
    assert empty.exit_code == 0 and "no API keys" in empty.stdout
    for args, message in (
        (["keys", "create", "--name", "x", "--scope", "root"], "unknown scope 'root'"),
        (["keys", "create", "--name", "  "], "needs a name"),
        (["keys", "create", "--name", "x", "--rpm", "-1"], "rpm must be >= 0"),
        (["keys", "revoke", "key_000000000000"], "key_000000000000 not found"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_an_unreachable_redis_is_reported(monkeypatch) -> None:
    monkeypatch.setenv("DOCENT_GATEWAY_STORE", "redis")
    monkeypatch.setenv("DOCENT_GATEWAY_REDIS_URL", "redis://127.0.0.1:1/0")
    result = runner.invoke(app, ["keys", "list"])
    assert result.exit_code == 1 and "key store error" in result.output
