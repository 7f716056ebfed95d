"""API keys: only a SHA-256 of each secret is stored; scopes say what a key may do.

A key's secret is 256 random bits, so a fast hash is enough (no password stretching needed:
nobody can guess the preimage), and lookup by hash is one indexed read per request. The secret
is shown once, when the key is created.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

from docentlib.errors import InvalidInput
from docentlib.registry import Registry

if TYPE_CHECKING:
    from services.gateway.settings import GatewaySettings

SCOPES = ("chat", "ingest", "admin")
TOKEN_PREFIX = "dk_"


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(key id, secret token); the token embeds the id so logs can name a key without it."""
    key_id = f"key_{secrets.token_hex(6)}"
    return key_id, f"{TOKEN_PREFIX}{key_id[4:]}_{secrets.token_urlsafe(32)}"


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if not scopes:
        raise InvalidInput(f"a key needs at least one scope of {list(SCOPES)}")
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise InvalidInput(f"unknown scope {bad[0]!r}: expected one of {list(SCOPES)}")
    return tuple(dict.fromkeys(scopes))


@dataclass(frozen=True)
class ApiKey:
    """What is stored about a key (never the secret)."""

    id: str
    name: str
    scopes: tuple[str, ...]
    hash: str
    created_at: float
    revoked_at: float | None = None
    rpm: int | None = None  # requests per minute; None: the gateway's default
    tpm: int | None = None  # tokens per minute; None: the gateway's default

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """``admin`` may do everything; otherwise the scope must be granted."""
        return self.active and (scope in self.scopes or "admin" in self.scopes)

    def public(self) -> dict[str, Any]:
        """The key as shown by ``docent keys list`` (no hash)."""
        data = asdict(self)
        data.pop("hash")
        data["scopes"] = list(self.scopes)
        return data


class KeyStore(Protocol):
    """Usage::

    store = open_key_store(settings)
    key, token = store.create("ci", ["chat"])
    store.lookup(token)  # the ApiKey, or None when unknown or revoked
    """

    def create(
        self, name: str, scopes: list[str], rpm: int | None = None, tpm: int | None = None
    ) -> tuple[ApiKey, str]: ...

    def list(self) -> list[ApiKey]: ...

    def revoke(self, key_id: str) -> ApiKey:
        """Mark revoked (kept for the record); :class:`NotFound` for an unknown id."""
        ...

    def lookup(self, token: str) -> ApiKey | None: ...

    def any_active(self) -> bool: ...

    def close(self) -> None: ...


KEY_STORES: Registry[Callable[[GatewaySettings], KeyStore]] = Registry(
    "key store",
    {
        "sqlite": "services.gateway.access.sqlite_keys:SqliteKeyStore.from_settings",
        "redis": "services.gateway.access.redis_keys:RedisKeyStore.from_settings",
    },
)


def open_key_store(settings: GatewaySettings) -> KeyStore:
    """Same backend as conversations: SQLite under ``data_dir`` or Redis."""
    return KEY_STORES.get(settings.store)(settings)
