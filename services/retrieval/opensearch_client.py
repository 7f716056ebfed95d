"""One connection to OpenSearch for the retrieval service: client options from settings, every
call timed, traced and turned into :class:`OpenSearchUnavailable`, and a bounded start-up wait.

Both users of OpenSearch share it: the embedded store's BM25 backend
(``sparse/opensearch_index.py``) and the OpenSearch store (``store/opensearch_store.py``).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from opensearchpy import OpenSearch
from opensearchpy.exceptions import (
    AuthenticationException,
    AuthorizationException,
    ConnectionError,
    OpenSearchException,
    SSLError,
    TransportError,
)
from opentelemetry import trace
from prometheus_client import Counter, Histogram

from docentlib.errors import Unavailable
from services.retrieval.settings import RetrievalSettings
from services.runtime.metrics import LATENCY_BUCKETS

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)
T = TypeVar("T")

REQUEST_SECONDS = Histogram(
    "docent_retrieval_opensearch_request_seconds",
    "Latency of requests from the retrieval service to OpenSearch, by operation.",
    ["op"],
    buckets=LATENCY_BUCKETS,
)
REQUEST_ERRORS = Counter(
    "docent_retrieval_opensearch_errors_total",
    "Requests to OpenSearch that failed (unreachable, timed out or refused), by operation.",
    ["op"],
)
# HTTP statuses a cluster that is still starting or overloaded answers: worth waiting for.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class OpenSearchUnavailable(Unavailable):
    """A failed OpenSearch request; ``retryable`` when waiting may help (unreachable, 503...).

    ``status`` is the HTTP status when there was one, ``error`` OpenSearch's error type
    (``resource_already_exists_exception``, ``version_conflict_engine_exception``...).
    """

    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, error: str = ""
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.error = error


def redact(host: str) -> str:
    """A host URL without any user:password part, for messages and logs."""
    parts = urlsplit(host if "://" in host else f"http://{host}")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")


def error_type(exc: TransportError) -> str:
    """OpenSearch's error type (``version_conflict_engine_exception``...) from a failed call."""
    info = exc.info if isinstance(exc.info, dict) else {}
    error = info.get("error")
    if isinstance(error, dict):
        return str(error.get("type", ""))
    return str(exc.error or "")


class OpenSearchConnection:
    """The opensearch-py client configured from ``DOCENT_RETRIEVAL_OPENSEARCH_*``.

    Usage::

        conn = OpenSearchConnection(settings)
        found = conn.call("exists", conn.client.indices.exists, index="docent-chunks")

    :raises Unavailable: when the CA bundle is missing or the client cannot be configured.
    """

    def __init__(self, settings: RetrievalSettings) -> None:
        self.settings = settings
        self.hosts = settings.opensearch_host_list()
        self.where = ", ".join(redact(h) for h in self.hosts)
        self.client = self._connect()

    def _connect(self) -> OpenSearch:
        s = self.settings
        auth = None
        if s.opensearch_username:
            password = s.opensearch_password.get_secret_value() if s.opensearch_password else ""
            auth = (s.opensearch_username, password)
        if s.opensearch_ca_certs is not None and not s.opensearch_ca_certs.is_file():
            raise Unavailable(
                f"DOCENT_RETRIEVAL_OPENSEARCH_CA_CERTS={s.opensearch_ca_certs} is not a file"
            )
        try:
            return OpenSearch(
                hosts=self.hosts,
                http_auth=auth,
                verify_certs=s.opensearch_verify_certs,
                ssl_show_warn=s.opensearch_verify_certs,
                ca_certs=str(s.opensearch_ca_certs) if s.opensearch_ca_certs else None,
                timeout=s.opensearch_timeout_s,
                max_retries=s.opensearch_max_retries,
                retry_on_timeout=False,
            )
        except (OpenSearchException, ValueError) as exc:
            raise Unavailable(
                f"cannot configure the OpenSearch client for {self.where}: {exc}"
            ) from exc

    def call(self, op: str, fn: Callable[..., T], /, *, target: str = "", **kwargs: Any) -> T:
        """Run one client call, timed and traced; every failure becomes
        :class:`OpenSearchUnavailable` naming the hosts (never credentials), ``target`` and
        ``op`` (``target`` reads "index 'docent-chunks'")."""
        on = f" on {target}" if target else ""
        start = time.perf_counter()
        with _tracer.start_as_current_span(f"opensearch.{op}"):
            try:
                return fn(**kwargs)
            except SSLError as exc:  # a certificate problem: waiting will not fix it
                REQUEST_ERRORS.labels(op).inc()
                raise OpenSearchUnavailable(
                    f"TLS with OpenSearch at {self.where} failed ({op}{on}): "
                    f"{str(exc.error)[:300]}; check DOCENT_RETRIEVAL_OPENSEARCH_CA_CERTS and "
                    "_VERIFY_CERTS",
                    retryable=False,
                ) from exc
            except ConnectionError as exc:  # also timeouts
                REQUEST_ERRORS.labels(op).inc()
                raise OpenSearchUnavailable(
                    f"OpenSearch at {self.where} is unreachable ({op}{on}): {str(exc.error)[:300]}",
                    retryable=True,
                ) from exc
            except (AuthenticationException, AuthorizationException) as exc:
                REQUEST_ERRORS.labels(op).inc()
                raise OpenSearchUnavailable(
                    f"OpenSearch at {self.where} refused {op}{on} (HTTP {exc.status_code}): "
                    "check DOCENT_RETRIEVAL_OPENSEARCH_USERNAME and _PASSWORD",
                    retryable=False,
                    status=int(exc.status_code),
                ) from exc
            except TransportError as exc:
                REQUEST_ERRORS.labels(op).inc()
                status = exc.status_code if isinstance(exc.status_code, int) else None
                raise OpenSearchUnavailable(
                    f"OpenSearch {op}{on} failed: HTTP {exc.status_code} {exc.error}: "
                    f"{str(exc)[:300]}",
                    retryable=status in RETRYABLE_STATUSES,
                    status=status,
                    error=error_type(exc),
                ) from exc
            except OpenSearchException as exc:  # e.g. a response that is not JSON
                REQUEST_ERRORS.labels(op).inc()
                raise OpenSearchUnavailable(
                    f"OpenSearch {op}{on} failed: {exc}", retryable=False
                ) from exc
            finally:
                REQUEST_SECONDS.labels(op).observe(time.perf_counter() - start)

    def close(self) -> None:
        """Close the HTTP connection pools; safe to call twice."""
        self.client.close()


def wait_for(
    what: str,
    attempt: Callable[[], T],
    *,
    total_s: float,
    stop: threading.Event | None = None,
    first_delay_s: float = 0.25,
    max_delay_s: float = 8.0,
) -> T:
    """``attempt()`` until it succeeds, retrying retryable failures with exponential backoff
    (full jitter) for at most ``total_s`` seconds in all.

    Start-up uses it so that a retrieval pod that comes up before OpenSearch serves as soon as
    OpenSearch answers, instead of failing its load and waiting for the startup probe to
    restart it. A non-retryable failure (wrong credentials, an index of another shape) is
    raised at once; ``stop`` (set on shutdown) ends the wait early.

    :raises Unavailable: the last failure, its message saying how long was waited.
    """
    deadline = time.monotonic() + total_s
    delay = first_delay_s
    tries = 0
    while True:
        tries += 1
        try:
            return attempt()
        except OpenSearchUnavailable as exc:
            if stop is not None and stop.is_set():
                raise Unavailable(f"{what}: stopped while waiting for OpenSearch") from exc
            remaining = deadline - time.monotonic()
            if not exc.retryable or remaining <= 0:
                if exc.retryable:
                    raise Unavailable(
                        f"{what}: gave up after {tries} tries in {total_s:.0f}s: {exc.message}"
                    ) from exc
                raise
            pause = min(remaining, random.uniform(0, delay))
            log.warning(
                "OpenSearch not ready; retrying",
                extra={"what": what, "try": tries, "retry_in_s": round(pause, 2)},
            )
            if stop is not None:
                if stop.wait(pause):
                    raise Unavailable(f"{what}: stopped while waiting for OpenSearch") from exc
            else:
                time.sleep(pause)
            delay = min(max_delay_s, delay * 2)
