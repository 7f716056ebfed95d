"""A stateful OpenSearch double on 127.0.0.1: a protocol-level check, not OpenSearch.

It keeps the indexes and documents it is sent and answers the REST API subset the retrieval
service uses with real semantics: index creation from settings and mappings, ``_bulk`` NDJSON
with optimistic concurrency (``if_seq_no``/``if_primary_term``, ``create``), refresh (writes
become searchable only at a refresh, ``refresh=true|wait_for`` included; real-time ``_mget``
sees them at once), ``_search`` with BM25 ``match`` (the analysis and scoring of
``opensearch_text``) and exact ``knn``, ``_count``, ``_delete_by_query`` over the last
refresh, and ``_mapping``. Every request is checked first: known path and method, only query
parameters the OpenAPI specification lists for that operation, bodies and documents as a
cluster checks them (``opensearch_mapping``, ``opensearch_dsl``). A refused request is
answered as OpenSearch would (status and error type) and kept in :attr:`rejected`, which the
tests assert is empty.

It is single-shard and has no periodic refresh (tests can call :meth:`refresh_all` at any
moment to play one). Real HNSW is approximate; the double's ``knn`` is exact.
``opensearch_spec.py`` can check the recorded requests against the specification itself.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.retrieval.opensearch_dsl import (
    StoredDoc,
    analyse,
    check_query,
    check_search,
    evaluate,
    filter_source,
    parsing,
    sort_hits,
)
from tests.retrieval.opensearch_mapping import ApiError, IndexSpec, bad, check_document, parse_index

SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
GLOBAL_PARAMS = {"pretty", "human", "error_trace", "filter_path"}
# Query parameters of each operation, as the OpenAPI specification lists them.
PARAMS = {
    "indices.exists": {"allow_no_indices", "cluster_manager_timeout", "expand_wildcards",
                       "flat_settings", "ignore_unavailable", "include_defaults", "local"},
    "indices.create": {"cluster_manager_timeout", "master_timeout", "timeout",
                       "wait_for_active_shards"},
    "indices.delete": {"allow_no_indices", "cluster_manager_timeout", "expand_wildcards",
                       "ignore_unavailable", "master_timeout", "timeout"},
    "indices.get_mapping": {"allow_no_indices", "cluster_manager_timeout", "expand_wildcards",
                            "ignore_unavailable", "index", "local", "master_timeout"},
    "indices.put_mapping": {"allow_no_indices", "cluster_manager_timeout", "expand_wildcards",
                            "ignore_unavailable", "master_timeout", "timeout",
                            "write_index_only"},
    "indices.refresh": {"allow_no_indices", "expand_wildcards", "ignore_unavailable"},
    "bulk": {"_source", "_source_excludes", "_source_includes", "index", "pipeline", "refresh",
             "require_alias", "routing", "timeout", "type", "wait_for_active_shards"},
    "mget": {"_source", "_source_excludes", "_source_includes", "preference", "realtime",
             "refresh", "routing", "stored_fields"},
    "count": {"allow_no_indices", "analyze_wildcard", "analyzer", "default_operator", "df",
              "expand_wildcards", "ignore_throttled", "ignore_unavailable", "lenient",
              "min_score", "preference", "q", "routing", "terminate_after"},
    "search": {"_source", "_source_excludes", "_source_includes", "allow_no_indices",
               "allow_partial_search_results", "analyze_wildcard", "analyzer",
               "batched_reduce_size", "cancel_after_time_interval", "ccs_minimize_roundtrips",
               "default_operator", "df", "docvalue_fields", "expand_wildcards", "explain",
               "from", "ignore_throttled", "ignore_unavailable", "include_named_queries_score",
               "index", "lenient", "max_concurrent_shard_requests", "phase_took",
               "pre_filter_shard_size", "preference", "q", "request_cache",
               "rest_total_hits_as_int", "routing", "scroll", "search_pipeline", "search_type",
               "seq_no_primary_term", "size", "sort", "stats", "stored_fields", "suggest_field",
               "suggest_mode", "suggest_size", "suggest_text", "terminate_after", "timeout",
               "track_scores", "track_total_hits", "typed_keys", "verbose_pipeline",
               "version"},
    "delete_by_query": {"_source", "_source_excludes", "_source_includes", "allow_no_indices",
                        "analyze_wildcard", "analyzer", "conflicts", "default_operator", "df",
                        "expand_wildcards", "from", "ignore_unavailable", "lenient",
                        "max_docs", "preference", "q", "refresh", "request_cache",
                        "requests_per_second", "routing", "scroll", "scroll_size",
                        "search_timeout", "search_type", "size", "slices", "sort", "stats",
                        "terminate_after", "timeout", "version", "wait_for_active_shards",
                        "wait_for_completion"},
}  # fmt: skip
_INDEX = r"(?P<index>[^/_][^/]*)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), op)
    for method, pattern, op in [
        ("HEAD", rf"/{_INDEX}", "indices.exists"),
        ("PUT", rf"/{_INDEX}", "indices.create"),
        ("DELETE", rf"/{_INDEX}", "indices.delete"),
        ("GET", rf"/{_INDEX}/_mapping", "indices.get_mapping"),
        ("PUT", rf"/{_INDEX}/_mapping", "indices.put_mapping"),
        ("POST", rf"/{_INDEX}/_refresh", "indices.refresh"),
        ("POST", r"/_bulk", "bulk"),
        ("PUT", r"/_bulk", "bulk"),
        ("POST", rf"/{_INDEX}/_mget", "mget"),
        ("GET", rf"/{_INDEX}/_mget", "mget"),
        ("POST", rf"/{_INDEX}/_search", "search"),
        ("GET", rf"/{_INDEX}/_search", "search"),
        ("POST", rf"/{_INDEX}/_count", "count"),
        ("GET", rf"/{_INDEX}/_count", "count"),
        ("POST", rf"/{_INDEX}/_delete_by_query", "delete_by_query"),
    ]
]
_BAD_INDEX_CHARS = set('\\/*?"<>| ,#:')


@dataclass
class Recorded:
    """One request as received, and how it was answered."""

    method: str
    path: str
    op: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]
    status: int = 0
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]


@dataclass
class Fault:
    """A scripted failure: requests matching ``when`` are answered ``status``/``kind``."""

    when: Callable[[Recorded], bool]
    status: int
    kind: str
    reason: str
    times: int | None = None  # None: until removed
    after_applying: bool = False  # do the work, then answer the error (a lost answer)


@dataclass
class Index:
    name: str
    spec: IndexSpec
    docs: dict[str, StoredDoc] = field(default_factory=dict)  # live: what _mget sees
    searchable: dict[str, StoredDoc] = field(default_factory=dict)  # as of the last refresh
    seq_no: int = -1
    cache: dict = field(default_factory=dict)  # BM25 statistics of `searchable`

    def refresh(self) -> None:
        self.searchable = dict(self.docs)
        self.cache = {}


class OpenSearchDouble:
    """The double's state and request handling; :meth:`start` serves it over HTTP.

    Usage::

        double = OpenSearchDouble().start()
        settings = RetrievalSettings(store="opensearch", opensearch_hosts=double.url)
        ...
        assert double.rejected == []
        double.stop()
    """

    def __init__(self) -> None:
        self.indexes: dict[str, Index] = {}
        self.requests: list[Recorded] = []
        self.rejected: list[Recorded] = []
        self.faults: list[Fault] = []
        self.after_write: list[Callable[[Recorded], None]] = []
        self.url = ""
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------------

    def start(self, port: int = 0, tls: ssl.SSLContext | None = None) -> OpenSearchDouble:
        """Serve on 127.0.0.1:``port`` (0: a free one) in a daemon thread; HTTPS with ``tls``."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = double.handle(
                    self.command, self.path, body, {k.lower(): v for k, v in self.headers.items()}
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail(
        self,
        when: Callable[[Recorded], bool],
        status: int = 503,
        kind: str = "search_phase_execution_exception",
        reason: str = "all shards failed",
        times: int | None = None,
        after_applying: bool = False,
    ) -> Fault:
        """Answer requests matching ``when`` with an error, ``times`` times (None: always);
        ``after_applying``: carry the request out first, as when only the answer is lost."""
        fault = Fault(when, status, kind, reason, times, after_applying)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def refresh_all(self) -> None:
        """What a periodic refresh does: every write so far becomes searchable."""
        with self._lock:
            for index in self.indexes.values():
                index.refresh()

    def calls(self) -> list[str]:
        return [r.op for r in self.requests]

    # -- dispatch ------------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        record = Recorded(method, parts.path, "", query, body, headers)
        with self._lock:
            self.requests.append(record)
            try:
                status, payload = self._dispatch(record)
            except ApiError as exc:
                status, payload = exc.status, exc.body()
                record.error = exc.kind
                if not exc.kind.startswith("scripted:"):
                    self.rejected.append(record)
                else:
                    payload["error"]["type"] = exc.kind.removeprefix("scripted:")
            record.status = status
        if record.op in ("bulk", "delete_by_query", "indices.refresh") and status < 300:
            for hook in list(self.after_write):
                hook(record)
        return status, payload

    def _dispatch(self, record: Recorded) -> tuple[int, Any]:
        for method, pattern, op in ROUTES:
            match = pattern.fullmatch(record.path)
            if match and method == record.method:
                record.op = op
                break
        else:
            raise bad(f"no handler found for uri [{record.path}] and method [{record.method}]")
        hit = next((f for f in self.faults if f.times != 0 and f.when(record)), None)
        if hit is not None:
            if hit.times is not None:
                hit.times -= 1
            if not hit.after_applying:
                raise ApiError(hit.status, f"scripted:{hit.kind}", hit.reason)
        unknown = set(record.query) - PARAMS[op] - GLOBAL_PARAMS
        if unknown:
            raise bad(f"request [{record.path}] contains unrecognized parameter: "
                      f"[{sorted(unknown)[0]}]")  # fmt: skip
        refresh = record.query.get("refresh")
        if refresh not in (None, "", "true", "false", "wait_for"):
            raise bad(f"Unknown value for refresh: [{refresh}]")
        name = unquote(match.group("index")) if "index" in match.groupdict() else ""
        handler = getattr(self, "_" + op.replace(".", "_"))
        answer = handler(record, name)
        if hit is not None:
            raise ApiError(hit.status, f"scripted:{hit.kind}", hit.reason)
        return answer

    def _body(self, record: Recorded, required: bool = False) -> dict[str, Any]:
        if not record.body:
            if required:
                raise parsing("request body is required")
            return {}
        try:
            body = json.loads(record.body)
        except ValueError as exc:
            raise ApiError(400, "json_parse_exception", str(exc)) from exc
        if not isinstance(body, dict):
            raise parsing("request body must be a JSON object")
        return body

    def _index(self, name: str) -> Index:
        index = self.indexes.get(name)
        if index is None:
            raise ApiError(404, "index_not_found_exception", f"no such index [{name}]")
        return index

    # -- indices -------------------------------------------------------------------------------

    def _indices_exists(self, record: Recorded, name: str) -> tuple[int, Any]:
        return (200 if name in self.indexes else 404), None

    def _indices_create(self, record: Recorded, name: str) -> tuple[int, Any]:
        if name != name.lower() or name[0] in "-_+" or _BAD_INDEX_CHARS & set(name):
            raise bad(f"Invalid index name [{name}]", "invalid_index_name_exception")
        if name in self.indexes:
            raise bad(f"index [{name}/x1] already exists", "resource_already_exists_exception")
        self.indexes[name] = Index(name, parse_index(self._body(record)))
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def _indices_delete(self, record: Recorded, name: str) -> tuple[int, Any]:
        self._index(name)
        del self.indexes[name]
        return 200, {"acknowledged": True}

    def _indices_get_mapping(self, record: Recorded, name: str) -> tuple[int, Any]:
        return 200, {name: {"mappings": self._index(name).spec.mappings}}

    def _indices_put_mapping(self, record: Recorded, name: str) -> tuple[int, Any]:
        index = self._index(name)
        body = self._body(record, required=True)
        if set(body) - {"_meta", "properties", "dynamic"}:
            raise bad(f"unsupported mapping parameters {sorted(body)}", "mapper_parsing_exception")
        for field_name, definition in (body.get("properties") or {}).items():
            existing = index.spec.mappings.get("properties", {}).get(field_name)
            if existing is not None and existing != definition:
                raise bad(f"mapper [{field_name}] cannot be changed")
            if existing is None:
                raise ApiError(400, "double_unsupported", "adding fields to a mapping")
        if "_meta" in body:
            index.spec.mappings["_meta"] = body["_meta"]
        return 200, {"acknowledged": True}

    def _indices_refresh(self, record: Recorded, name: str) -> tuple[int, Any]:
        self._index(name).refresh()
        return 200, {"_shards": SHARDS}

    # -- documents -----------------------------------------------------------------------------

    def _bulk(self, record: Recorded, name: str) -> tuple[int, Any]:
        text = record.body.decode()
        if not text.endswith("\n"):
            raise bad("The bulk request must be terminated by a newline [\\n]")
        lines = [line for line in text.split("\n") if line.strip()]
        ops: list[tuple[str, dict[str, Any], Any]] = []
        position = 0
        while position < len(lines):
            try:
                action = json.loads(lines[position])
            except ValueError as exc:
                raise ApiError(400, "json_parse_exception", str(exc)) from exc
            if not isinstance(action, dict) or len(action) != 1:
                raise bad(f"Malformed action/metadata line [{position + 1}], expected one "
                          "of index, create, update, delete")  # fmt: skip
            ((kind, meta),) = action.items()
            allowed = {"_index", "_id", "routing", "if_seq_no", "if_primary_term", "version",
                       "version_type", "pipeline", "require_alias"}  # fmt: skip
            if kind not in ("index", "create", "delete") or set(meta) - allowed:
                raise bad(f"Action/metadata line [{position + 1}] contains an unknown "
                          f"parameter or action: {action}")  # fmt: skip
            if "_index" not in meta:
                raise ApiError(400, "action_request_validation_exception", "index is missing")
            source = None
            if kind != "delete":
                position += 1
                if position >= len(lines):
                    raise bad(f"{kind} action needs a source line")
                source = json.loads(lines[position])
            elif "_id" not in meta:
                raise ApiError(400, "action_request_validation_exception", "id is missing")
            ops.append((kind, meta, source))
            position += 1
        items = [self._bulk_item(kind, meta, source) for kind, meta, source in ops]
        if record.query.get("refresh") in ("", "true", "wait_for"):
            for index_name in {meta["_index"] for _, meta, _ in ops}:
                if index_name in self.indexes:
                    self._refresh_for(record, self.indexes[index_name])
        errors = any("error" in next(iter(item.values())) for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _refresh_for(self, record: Recorded, index: Index) -> None:
        if record.query.get("refresh") == "wait_for" and index.spec.refresh_interval == "-1":
            raise ApiError(400, "double_unsupported",
                           "refresh=wait_for on an index with refresh_interval -1 waits for an "
                           "explicit refresh")  # fmt: skip
        index.refresh()

    def _bulk_item(self, kind: str, meta: dict[str, Any], source: Any) -> dict[str, Any]:
        name, id_ = meta["_index"], meta.get("_id")
        result: dict[str, Any] = {"_index": name, "_id": id_}
        index = self.indexes.get(name)
        if index is None:  # a real cluster would create it with dynamic mappings: never wanted
            self.rejected.append(Recorded("BULK", name, "bulk item", {}, b"", {}, 404))
            return {
                kind: result | _error(404, "index_not_found_exception", f"no such index [{name}]")
            }
        try:
            if kind != "delete":
                check_document(index.spec, source)
        except ApiError as exc:
            self.rejected.append(Recorded("BULK", name, "bulk item", {}, json.dumps(
                source).encode(), {}, exc.status, exc.kind))  # fmt: skip
            return {kind: result | _error(exc.status, exc.kind, exc.reason)}
        existing = index.docs.get(id_) if id_ is not None else None
        if kind == "create" and existing is not None:
            return {kind: result | _error(409, "version_conflict_engine_exception",
                                          f"[{id_}]: version conflict, document already "
                                          "exists")}  # fmt: skip
        conditional = "if_seq_no" in meta or "if_primary_term" in meta
        expected = (meta.get("if_seq_no"), meta.get("if_primary_term"))
        if conditional and (
            existing is None or (existing.seq_no, existing.primary_term) != expected
        ):
            reason = f"[{id_}]: version conflict, required seqNo [{meta.get('if_seq_no')}]"
            return {kind: result | _error(409, "version_conflict_engine_exception", reason)}
        if kind == "delete":
            if existing is None:
                return {kind: result | {"result": "not_found", "status": 404, "_version": 1}}
            index.seq_no += 1
            del index.docs[id_]
            return {kind: result | self._written(index, existing.version + 1, "deleted", 200)}
        if id_ is None:
            id_ = f"auto{index.seq_no + 1}"
            result["_id"] = id_
        index.seq_no += 1
        version = existing.version + 1 if existing else 1
        index.docs.pop(id_, None)  # an update goes to the end (Lucene: a new doc id)
        index.docs[id_] = StoredDoc(id_, source, index.seq_no, 1, version,
                                    analyse(index.spec, source))  # fmt: skip
        status = 200 if existing else 201
        return {kind: result | self._written(index, version, "updated" if existing else "created",
                                             status)}  # fmt: skip

    @staticmethod
    def _written(index: Index, version: int, result: str, status: int) -> dict[str, Any]:
        return {"_version": version, "result": result, "_seq_no": index.seq_no,
                "_primary_term": 1, "status": status,
                "_shards": {"total": 1, "successful": 1, "failed": 0}}  # fmt: skip

    def _mget(self, record: Recorded, name: str) -> tuple[int, Any]:
        self._index(name)
        body = self._body(record, required=True)
        if set(body) - {"ids", "docs"} or not (
            isinstance(body.get("ids"), list) or isinstance(body.get("docs"), list)
        ):
            raise ApiError(400, "action_request_validation_exception", "no documents to get")
        wanted = [{"_id": i} for i in body.get("ids", [])] + list(body.get("docs", []))
        source_param = record.query.get("_source")
        docs = []
        for item in wanted:
            if set(item) - {"_id", "_index", "_source"} or "_id" not in item:
                raise bad(f"mget item {item!r} is malformed")
            target = self._index(item.get("_index", name))
            doc = target.docs.get(str(item["_id"]))
            if doc is None:
                docs.append({"_index": target.name, "_id": item["_id"], "found": False})
                continue
            source = filter_source(doc.source, item.get("_source", _param_source(source_param)))
            found = {
                "_index": target.name,
                "_id": doc.id,
                "_version": doc.version,
                "_seq_no": doc.seq_no,
                "_primary_term": doc.primary_term,
                "found": True,
            }
            if source is not None:
                found["_source"] = source
            docs.append(found)  # fmt: skip
        return 200, {"docs": docs}

    # -- search --------------------------------------------------------------------------------

    def _search(self, record: Recorded, name: str) -> tuple[int, Any]:
        index = self._index(name)
        body = self._body(record)
        check_search(index.spec, body)
        docs = list(index.searchable.values())
        scores = evaluate(index.spec, docs, body.get("query", {"match_all": {}}), index.cache)
        by_id = {d.id: d for d in docs}
        ordered = sort_hits([(by_id[i], s) for i, s in scores.items()], body.get("sort"),
                            body.get("search_after"))  # fmt: skip
        start, size = body.get("from", 0), body.get("size", 10)
        page = ordered[start : start + size]
        sorted_by_fields = bool(body.get("sort"))
        hits = []
        for doc, score, sort_values in page:
            hit: dict[str, Any] = {"_index": name, "_id": doc.id,
                                   "_score": None if sorted_by_fields else score}  # fmt: skip
            source = filter_source(doc.source, body.get("_source", True))
            if source is not None:
                hit["_source"] = source
            if body.get("seq_no_primary_term"):
                hit |= {"_seq_no": doc.seq_no, "_primary_term": doc.primary_term}
            if sort_values is not None:
                hit["sort"] = sort_values
            hits.append(hit)
        result: dict[str, Any] = {
            "max_score": None if sorted_by_fields or not page else max(s for _, s, _ in page),
            "hits": hits,
        }
        if body.get("track_total_hits", True) is not False:
            result["total"] = {"value": len(scores), "relation": "eq"}
        return 200, {"took": 1, "timed_out": False, "_shards": SHARDS, "hits": result}

    def _count(self, record: Recorded, name: str) -> tuple[int, Any]:
        index = self._index(name)
        body = self._body(record)
        if set(body) - {"query"}:
            raise parsing(f"request does not support {sorted(body)}")
        query = body.get("query", {"match_all": {}})
        check_query(index.spec, query)
        matched = evaluate(index.spec, list(index.searchable.values()), query, index.cache)
        return 200, {"count": len(matched), "_shards": SHARDS}

    def _delete_by_query(self, record: Recorded, name: str) -> tuple[int, Any]:
        index = self._index(name)
        body = self._body(record, required=True)
        if set(body) - {"query", "max_docs"} or "query" not in body:
            raise parsing(f"_delete_by_query takes query (and max_docs), got {sorted(body)}")
        conflicts = record.query.get("conflicts", "abort")
        if conflicts not in ("abort", "proceed"):
            raise bad(f"conflicts may only contain abort or proceed, got [{conflicts}]")
        check_query(index.spec, body["query"])
        snapshot = list(index.searchable.values())
        matched = evaluate(index.spec, snapshot, body["query"], index.cache)
        deleted = version_conflicts = 0
        for doc in snapshot:
            if doc.id not in matched:
                continue
            live = index.docs.get(doc.id)
            if live is None or live.seq_no != doc.seq_no:
                version_conflicts += 1
                if conflicts == "abort":
                    raise ApiError(409, "version_conflict_engine_exception",
                                   f"[{doc.id}]: version conflict")  # fmt: skip
                continue
            index.seq_no += 1
            del index.docs[doc.id]
            deleted += 1
        if record.query.get("refresh") in ("", "true"):
            index.refresh()
        return 200, {"took": 1, "timed_out": False, "total": len(matched), "deleted": deleted,
                     "batches": 1, "version_conflicts": version_conflicts, "noops": 0,
                     "retries": {"bulk": 0, "search": 0}, "throttled_millis": 0,
                     "requests_per_second": -1.0, "throttled_until_millis": 0,
                     "failures": []}  # fmt: skip


def _error(status: int, kind: str, reason: str) -> dict[str, Any]:
    return {"status": status, "error": {"type": kind, "reason": reason}}


def _param_source(value: str | None) -> Any:
    if value is None:
        return True
    if value in ("true", "false"):
        return value == "true"
    return value.split(",")


def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
