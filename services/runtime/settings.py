"""Typed settings shared by every gRPC service.

Each service subclasses :class:`ServiceSettings` with its own env prefix (``DOCENT_<SERVICE>_``),
so one process is configured entirely from its environment and validated once at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

T = TypeVar("T", bound=BaseSettings)


def default_data_root() -> Path:
    """Root of all service state: ``$DOCENT_HOME``, else ``~/.local/share/docent``."""
    import os

    home = os.environ.get("DOCENT_HOME")
    return Path(home) if home else Path.home() / ".local" / "share" / "docent"


class ServiceSettings(BaseSettings):
    """Settings every gRPC service has; subclasses set ``model_config`` with their env prefix.

    Usage::

        class EmbeddingSettings(ServiceSettings):
            model_config = SettingsConfigDict(env_prefix="DOCENT_EMBEDDING_")
            port: int = 50051
    """

    model_config = SettingsConfigDict(env_prefix="DOCENT_", extra="ignore")

    service_name: str = Field("docent", description="Name used in logs, metrics and traces.")
    host: str = Field("127.0.0.1", description="Address the gRPC server binds to.")
    port: int = Field(50050, ge=0, le=65535, description="gRPC port (0 picks a free one).")
    metrics_host: str = Field("127.0.0.1", description="Address of the Prometheus HTTP server.")
    metrics_port: int = Field(9090, ge=0, le=65535, description="Prometheus /metrics port.")
    data_dir: Path | None = Field(
        None, description="State that survives restarts; default $DOCENT_HOME/<service>."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_json: bool = Field(True, description="One JSON object per log line.")
    otlp_endpoint: str | None = Field(
        None, description="OTLP/gRPC collector endpoint; tracing is off when unset."
    )
    drain_seconds: float = Field(
        10.0, ge=0, description="Grace for in-flight RPCs on SIGTERM (keep below the pod's)."
    )
    max_message_mb: int = Field(64, ge=1, description="Largest gRPC message accepted or sent.")
    max_connection_age_s: float = Field(
        60.0,
        ge=0,
        description="Close each client connection (GOAWAY) after about this long, +-10% jitter, "
        "so clients resolve DNS again and spread over replicas that came since (0: never).",
    )
    max_connection_age_grace_s: float = Field(
        150.0,
        ge=0,
        description="RPCs in flight on a connection closed for age may finish within this; "
        "above the longest deadline (a generation stream, 120 s by default).",
    )
    keepalive_s: float = Field(
        60.0,
        gt=0,
        description="Ping a client connection idle this long; drop it when no answer comes "
        "within keepalive_timeout_s (a client whose node vanished).",
    )
    keepalive_timeout_s: float = Field(
        20.0, gt=0, description="How long a keepalive ping may go unanswered."
    )

    @field_validator("port", "metrics_port")
    @classmethod
    def _port_in_range(cls, value: int) -> int:
        """Inherited by every service, including those that only override the default port."""
        if not 0 <= value <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {value}")
        return value

    def resolved_data_dir(self) -> Path:
        """The data dir, created on first use."""
        path = self.data_dir or default_data_root() / self.service_name
        path.mkdir(parents=True, exist_ok=True)
        return path


def describe_errors(settings_class: type[BaseSettings], exc: ValidationError) -> list[str]:
    """One line per bad value, naming the environment variable a person would fix."""
    prefix = settings_class.model_config.get("env_prefix", "")
    lines = []
    for error in exc.errors():
        name = prefix + str(error["loc"][0]).upper() if error["loc"] else prefix
        lines.append(f"invalid setting {name}: {error['msg']}")
    return lines


def load_settings(settings_class: type[T]) -> T:
    """Settings from the environment; bad values end the process naming each variable.

    A person who mistypes ``DOCENT_RETRIEVAL_PORT`` gets one line saying so, not a traceback.
    """
    import sys

    try:
        return settings_class()
    except ValidationError as exc:
        for line in describe_errors(settings_class, exc):
            print(line, file=sys.stderr)
        raise SystemExit(2) from None
