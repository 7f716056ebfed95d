"""The query DSL subset the double understands: checked as OpenSearch parses it, then evaluated
for real over the documents the last refresh made searchable.

Queries: ``match_all``, ``match`` (BM25, ``or``/``and``), ``term``, ``terms``, ``range``,
``ids``, ``bool`` and ``knn`` (exact nearest neighbours, scored as the k-NN plugin documents
for each space). Written from the OpenSearch query DSL and k-NN documentation and the
``_common.query_dsl`` schemas of the OpenAPI specification; anything else is an error.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.retrieval.opensearch_mapping import ApiError, FieldSpec, IndexSpec, bad
from tests.retrieval.opensearch_text import bm25, field_stats

SEARCH_KEYS = {
    "query", "size", "from", "_source", "sort", "search_after", "track_total_hits",
    "seq_no_primary_term", "min_score", "timeout", "version", "track_scores", "explain",
}  # fmt: skip
MAX_RESULT_WINDOW = 10_000


def parsing(reason: str) -> ApiError:
    return ApiError(400, "parsing_exception", reason)


@dataclass
class StoredDoc:
    """One document: its source, analysed text fields and sequence numbers."""

    id: str
    source: dict[str, Any]
    seq_no: int
    primary_term: int
    version: int
    terms: dict[str, Counter[str]] = field(default_factory=dict)  # per text field


def analyse(spec: IndexSpec, source: dict[str, Any]) -> dict[str, Counter[str]]:
    """Index-time analysis of every indexed text field of ``source``: its term counts."""
    out = {}
    for name, field_spec in spec.fields.items():
        if field_spec.type == "text" and field_spec.indexed and field_spec.analyzer:
            value = source.get(name)
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            out[name] = Counter(field_spec.analyzer(value) if isinstance(value, str) else [])
    return out


# -- checking ------------------------------------------------------------------------------------


def _one(what: str, value: Any) -> tuple[str, Any]:
    if not isinstance(value, dict) or len(value) != 1:
        raise parsing(f"[{what}] query malformed, expected one field, got {value!r}")
    ((key, inner),) = value.items()
    return key, inner


def _searchable(spec: IndexSpec, name: str, kinds: Iterable[str]) -> FieldSpec:
    field_spec = spec.fields.get(name)
    if field_spec is None:
        raise ApiError(400, "query_shard_exception", f"no mapping found for field [{name}]")
    if field_spec.type not in kinds:
        raise ApiError(400, "query_shard_exception", f"field [{name}] is a {field_spec.type}")
    if not field_spec.indexed:
        reason = f"Cannot search on field [{name}] since it is not indexed."
        raise ApiError(400, "query_shard_exception", reason)
    return field_spec


def check_query(spec: IndexSpec, query: Any) -> None:
    """Raise :class:`ApiError` for a query OpenSearch would refuse (or the double lacks)."""
    kind, body = _one("query", query)
    if kind == "match_all":
        if not isinstance(body, dict) or set(body) - {"boost"}:
            raise parsing(f"[match_all] takes only boost, got {body!r}")
    elif kind == "match":
        name, opts = _one("match", body)
        _searchable(spec, name, ("text", "keyword"))
        if isinstance(opts, dict):
            allowed = {"query", "operator", "boost", "minimum_should_match", "analyzer"}
            if set(opts) - allowed or "query" not in opts:
                raise parsing(f"[match] malformed: {opts!r}")
            if str(opts.get("operator", "or")).lower() not in ("or", "and"):
                raise parsing(f"[match] operator must be and/or, got {opts['operator']!r}")
    elif kind in ("term", "terms", "range"):
        names = [k for k in body if k != "boost"] if isinstance(body, dict) else []
        if len(names) != 1:
            raise parsing(f"[{kind}] query needs exactly one field, got {body!r}")
        _searchable(spec, names[0], ("keyword", "long", "integer", "boolean"))
        value = body[names[0]]
        if kind == "terms" and not isinstance(value, list):
            raise parsing(f"[terms] query on [{names[0]}] needs an array of values")
        if kind == "range" and (
            not isinstance(value, dict)
            or not value
            or set(value) - {"gt", "gte", "lt", "lte", "boost"}
        ):
            raise parsing(f"[range] query malformed: {value!r}")  # fmt: skip
    elif kind == "ids":
        if not isinstance(body, dict) or not isinstance(body.get("values"), list):
            raise parsing(f"[ids] needs values, got {body!r}")
    elif kind == "bool":
        allowed = {"filter", "must", "must_not", "should", "minimum_should_match", "boost"}
        if not isinstance(body, dict) or set(body) - allowed:
            raise parsing(f"[bool] query does not support {sorted(set(body) - allowed)}")
        for occur in ("filter", "must", "must_not", "should"):
            clauses = body.get(occur, [])
            for clause in clauses if isinstance(clauses, list) else [clauses]:
                check_query(spec, clause)
    elif kind == "knn":
        name, opts = _one("knn", body)
        field_spec = _searchable(spec, name, ("knn_vector",))
        allowed = {"vector", "k", "filter", "boost", "min_score", "max_distance",
                   "method_parameters", "rescore", "expand_nested_docs"}  # fmt: skip
        if not isinstance(opts, dict) or set(opts) - allowed or "vector" not in opts:
            raise parsing(f"[knn] malformed: {opts!r}")
        vector = opts["vector"]
        if not isinstance(vector, list) or len(vector) != field_spec.dimension:
            raise bad(f"[knn] query vector has {len(vector)} dimensions, field [{name}] "
                      f"{field_spec.dimension}")  # fmt: skip
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in vector):
            raise bad("[knn] query vector must be finite numbers")
        if "k" not in opts or not isinstance(opts["k"], int) or not 1 <= opts["k"] <= 10_000:
            raise bad(f"[knn] k must be an integer in [1, 10000], got {opts.get('k')!r}")
        if "filter" in opts:
            check_query(spec, opts["filter"])
    else:
        raise parsing(f"unknown query [{kind}]")


def check_search(spec: IndexSpec, body: dict[str, Any]) -> None:
    """Raise :class:`ApiError` for a ``_search`` body OpenSearch would refuse."""
    unknown = set(body) - SEARCH_KEYS
    if unknown:
        raise parsing(f"Unknown key for a START_OBJECT in [{sorted(unknown)[0]}].")
    size, start = body.get("size", 10), body.get("from", 0)
    if not isinstance(size, int) or size < 0 or not isinstance(start, int) or start < 0:
        raise bad(f"size and from must be non-negative integers, got {size!r}, {start!r}")
    if start + size > MAX_RESULT_WINDOW:
        raise bad(f"Result window is too large, from + size must be <= {MAX_RESULT_WINDOW}")
    if "query" in body:
        check_query(spec, body["query"])
    sort = _sort_fields(body.get("sort", []))
    for name, _ in sort:
        if name != "_score":
            field_spec = spec.fields.get(name)
            if field_spec is None or not field_spec.doc_values:
                raise bad(f"Can't sort on field [{name}]: no mapping or no doc values")
    after = body.get("search_after")
    if after is not None and (not isinstance(after, list) or len(after) != len(sort)):
        raise bad("search_after has to have as many values as sort has fields")
    source = body.get("_source", True)
    if not isinstance(source, bool | list | dict | str):
        raise parsing(f"[_source] must be a boolean, a field list or includes/excludes: {source}")


def _sort_fields(sort: Any) -> list[tuple[str, str]]:
    out = []
    for item in sort if isinstance(sort, list) else [sort]:
        if isinstance(item, str):
            out.append((item, "desc" if item == "_score" else "asc"))
            continue
        name, order = _one("sort", item)
        order = order.get("order", "asc") if isinstance(order, dict) else order
        if order not in ("asc", "desc"):
            raise bad(f"sort order must be asc or desc, got {order!r}")
        out.append((name, order))
    return out


# -- evaluating ----------------------------------------------------------------------------------


def knn_scores(space: str, query: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The ``_score`` of each row of ``vectors`` as the k-NN plugin documents it for ``space``
    (higher is closer): innerproduct ``1 + ip`` for ``ip >= 0`` else ``1 / (1 - ip)``;
    cosinesimil ``(2 - (1 - cos)) / 2``; l2 ``1 / (1 + squared distance)``."""
    if len(vectors) == 0:
        return np.zeros(0)
    if space == "innerproduct":
        ip = vectors @ query
        return np.where(ip >= 0, 1.0 + ip, 1.0 / (1.0 - np.minimum(ip, 0.0)))
    if space == "cosinesimil":
        cos = (vectors @ query) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
        return (2.0 - (1.0 - cos)) / 2.0
    if space == "l2":
        return 1.0 / (1.0 + np.sum((vectors - query) ** 2, axis=1))
    raise ApiError(400, "double_unsupported", f"k-NN space {space!r}")


def _values(doc: StoredDoc, name: str) -> list[Any]:
    value = doc.source.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def evaluate(
    spec: IndexSpec, docs: list[StoredDoc], query: dict[str, Any], cache: dict | None = None
) -> dict[str, float]:
    """``_id`` -> score of every document of ``docs`` that ``query`` matches (``cache`` keeps
    BM25 statistics of ``docs`` between calls; the caller drops it when ``docs`` change)."""
    cache = {} if cache is None else cache
    kind, body = _one("query", query)
    if kind == "match_all":
        return {d.id: float(body.get("boost", 1.0)) for d in docs}
    if kind == "ids":
        wanted = set(body["values"])
        return {d.id: 1.0 for d in docs if d.id in wanted}
    if kind in ("term", "terms", "range"):
        name = next(k for k in body if k != "boost")
        test = _filter_test(kind, body[name])
        return {d.id: 1.0 for d in docs if any(test(v) for v in _values(d, name))}
    if kind == "match":
        return _match(spec, docs, body, cache)
    if kind == "knn":
        return _knn(spec, docs, body, cache)
    return _bool(spec, docs, body, cache)


def _filter_test(kind: str, value: Any):
    if kind == "term":
        wanted = value.get("value") if isinstance(value, dict) else value
        return lambda v: v == wanted
    if kind == "terms":
        allowed = set(value)
        return lambda v: v in allowed
    bounds = value
    return lambda v: (
        ("gt" not in bounds or v > bounds["gt"])
        and ("gte" not in bounds or v >= bounds["gte"])
        and ("lt" not in bounds or v < bounds["lt"])
        and ("lte" not in bounds or v <= bounds["lte"])
    )


def _match(
    spec: IndexSpec, docs: list[StoredDoc], body: dict[str, Any], cache: dict
) -> dict[str, float]:
    ((name, opts),) = body.items()
    opts = opts if isinstance(opts, dict) else {"query": opts}
    field_spec = spec.fields[name]
    if field_spec.type == "keyword":
        return {d.id: 1.0 for d in docs if str(opts["query"]) in _values(d, name)}
    assert field_spec.analyzer is not None
    query_tokens = field_spec.analyzer(str(opts["query"]))
    empty: Counter[str] = Counter()
    key = ("bm25-stats", name)
    if key not in cache:
        cache[key] = field_stats([d.terms.get(name, empty) for d in docs])
    stats = cache[key]
    k1, b = field_spec.similarity
    need_all = str(opts.get("operator", "or")).lower() == "and"
    out = {}
    for doc in docs:
        counts = doc.terms.get(name, empty)
        if need_all and not all(t in counts for t in query_tokens):
            continue
        if not any(t in counts for t in query_tokens):
            continue
        score = bm25(query_tokens, counts, stats, k1, b)
        if score is not None:
            out[doc.id] = score
    return out


def _knn(
    spec: IndexSpec, docs: list[StoredDoc], body: dict[str, Any], cache: dict
) -> dict[str, float]:
    """Exact k nearest neighbours (pre-filtered when the query has a filter), scored as the
    k-NN plugin scores them; ties go to the earlier document."""
    ((name, opts),) = body.items()
    field_spec = spec.fields[name]
    key = ("knn", name)
    if "filter" in opts:
        allowed = evaluate(spec, docs, opts["filter"], cache)
        docs = [d for d in docs if d.id in allowed]
        key = ("knn", name, tuple(d.id for d in docs))
    if key not in cache:
        with_vector = [d for d in docs if d.source.get(name) is not None]
        matrix = np.asarray([d.source[name] for d in with_vector], dtype=np.float64)
        cache[key] = (with_vector, matrix.reshape(len(with_vector), field_spec.dimension))
    candidates, matrix = cache[key]
    scores = knn_scores(field_spec.space, np.asarray(opts["vector"], dtype=np.float64), matrix)
    order = np.lexsort((np.arange(len(scores)), -scores))[: opts["k"]]
    return {candidates[i].id: float(scores[i]) for i in order}


def _bool(
    spec: IndexSpec, docs: list[StoredDoc], body: dict[str, Any], cache: dict
) -> dict[str, float]:
    """Clauses are evaluated over all ``docs`` (BM25 statistics are index-wide), then combined:
    filter and must restrict, must_not removes, must and should add their scores."""

    def results(occur: str) -> list[dict[str, float]]:
        value = body.get(occur, [])
        clauses = value if isinstance(value, list) else [value]
        return [evaluate(spec, docs, c, cache) for c in clauses]

    required, must = results("filter"), results("must")
    alive = {d.id for d in docs}
    for matched in required + must:
        alive &= set(matched)
    for excluded in results("must_not"):
        alive -= set(excluded)
    scores = {id_: 0.0 for id_ in alive}
    for matched in must:
        for id_ in alive:
            scores[id_] += matched[id_]
    should = results("should")
    if should:
        default = 0 if (required or must) else 1
        needed = int(body.get("minimum_should_match", default))
        hits = dict.fromkeys(alive, 0)
        for matched in should:
            for id_ in alive & set(matched):
                scores[id_] += matched[id_]
                hits[id_] += 1
        scores = {id_: s for id_, s in scores.items() if hits[id_] >= needed}
    return scores


def filter_source(source: dict[str, Any], spec: Any) -> dict[str, Any] | None:
    """``_source`` as a search or get returns it for the ``_source`` parameter ``spec``."""
    if spec is False:
        return None
    if spec is True or spec is None:
        return dict(source)
    if isinstance(spec, str):
        spec = [spec]
    includes, excludes = (spec, []) if isinstance(spec, list) else (
        spec.get("includes", []), spec.get("excludes", []))  # fmt: skip
    out = {k: v for k, v in source.items() if not includes or k in includes}
    return {k: v for k, v in out.items() if k not in excludes}


def sort_hits(
    hits: list[tuple[StoredDoc, float]], sort: Any, after: list[Any] | None
) -> list[tuple[StoredDoc, float, list[Any] | None]]:
    """Hits in response order: by score (ties by index order) or by ``sort``, after
    ``search_after``; each with its sort values when sorted by fields."""
    fields = _sort_fields(sort or [])
    if not fields:
        order = sorted(enumerate(hits), key=lambda item: (-item[1][1], item[0]))
        return [(doc, score, None) for _, (doc, score) in order]

    def values(doc: StoredDoc, score: float) -> list[Any]:
        return [score if n == "_score" else (_values(doc, n) or [None])[0] for n, _ in fields]

    keyed = [(values(d, s), d, s) for d, s in hits]
    for position in reversed(range(len(fields))):
        descending = fields[position][1] == "desc"
        keyed.sort(key=lambda item, p=position: item[0][p], reverse=descending)
    if after is not None:
        keyed = [item for item in keyed if _after(item[0], after, fields)]
    return [(d, s, v) for v, d, s in keyed]


def _after(values: list[Any], after: list[Any], fields: list[tuple[str, str]]) -> bool:
    for value, bound, (_, order) in zip(values, after, fields, strict=True):
        if value == bound:
            continue
        return value > bound if order == "asc" else value < bound
    return False
