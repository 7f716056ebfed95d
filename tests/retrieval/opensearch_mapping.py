"""Index settings, mappings and documents checked as OpenSearch checks them, for the double.

Written from the OpenSearch documentation (index settings, mapping parameters, the k-NN
plugin's ``knn_vector`` field, methods and engines) and the OpenAPI specification's
``_common.mapping`` schemas. Each check raises :class:`ApiError` with the error type a real
cluster answers, so a request the double accepts has the shape a cluster accepts; the double
does not support everything a cluster does and refuses what it does not (type
``double_unsupported``), never silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tests.retrieval.opensearch_text import Analyzer, Unsupported, build_analyzer


class ApiError(Exception):
    """An error answer: HTTP ``status`` and OpenSearch's ``{"type", "reason"}``."""

    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(f"{status} {kind}: {reason}")
        self.status, self.kind, self.reason = status, kind, reason

    def body(self) -> dict[str, Any]:
        error = {"type": self.kind, "reason": self.reason}
        return {"error": {"root_cause": [error], **error}, "status": self.status}


def bad(reason: str, kind: str = "illegal_argument_exception") -> ApiError:
    return ApiError(400, kind, reason)


def _keys(what: str, value: Any, allowed: set[str], required: set[str] = frozenset()) -> None:
    if not isinstance(value, dict):
        raise bad(f"{what} must be an object, got {value!r}", "mapper_parsing_exception")
    unknown = set(value) - allowed
    if unknown:
        raise bad(f"unknown parameters {sorted(unknown)} in {what}", "mapper_parsing_exception")
    missing = set(required) - set(value)
    if missing:
        raise bad(f"{what} needs {sorted(missing)}", "mapper_parsing_exception")


# k-NN plugin: engines, the spaces each supports for hnsw, and their method parameters.
KNN_SPACES = {
    "faiss": {"l2", "innerproduct", "cosinesimil"},  # cosinesimil: OpenSearch 2.19+
    "lucene": {"l2", "innerproduct", "cosinesimil"},  # innerproduct: OpenSearch 2.13+
    "nmslib": {"l2", "innerproduct", "cosinesimil", "l1", "linf"},
}
KNN_PARAMETERS = {
    "faiss": {"m", "ef_construction", "ef_search", "encoder"},
    "lucene": {"m", "ef_construction"},
    "nmslib": {"m", "ef_construction"},
}
FIELD_PARAMETERS = {
    "keyword": {"type", "index", "doc_values", "ignore_above", "store"},
    "text": {"type", "index", "analyzer", "search_analyzer", "similarity", "store"},
    "long": {"type", "index", "doc_values", "store"},
    "integer": {"type", "index", "doc_values", "store"},
    "boolean": {"type", "index", "doc_values", "store"},
    "knn_vector": {"type", "dimension", "method", "space_type", "data_type", "mode"},
}
INDEX_SETTINGS = {
    "number_of_shards", "number_of_replicas", "refresh_interval", "knn",
    "knn.algo_param.ef_search", "similarity", "analysis",
}  # fmt: skip
BUILTIN_SIMILARITIES = {"BM25", "boolean"}


@dataclass
class FieldSpec:
    """One mapped field: its type and what the double needs to index or search it."""

    type: str
    indexed: bool = True
    doc_values: bool = True
    analyzer: Analyzer | None = None
    similarity: tuple[float, float] = (1.2, 0.75)  # BM25 (k1, b)
    dimension: int = 0
    space: str = "l2"


@dataclass
class IndexSpec:
    """What an index was created with: settings, mapping and the fields it implies."""

    settings: dict[str, Any]
    mappings: dict[str, Any]
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def refresh_interval(self) -> str:
        return str(self.settings.get("refresh_interval", "1s"))


def _flat_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``{"index": {...}}`` and ``{"index.x": ...}`` forms as one dict of index settings."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "index" and isinstance(value, dict):
            out.update(value)
        elif key.startswith("index."):
            out[key.removeprefix("index.")] = value
        else:
            out[key] = value
    return out


def parse_index(body: dict[str, Any]) -> IndexSpec:
    """Check a ``PUT /<index>`` body and return what it defines."""
    _keys("create index body", body, {"settings", "mappings", "aliases"})
    settings = _flat_settings(body.get("settings") or {})
    unknown = set(settings) - INDEX_SETTINGS
    if unknown:
        raise bad(f"unknown setting [index.{sorted(unknown)[0]}]", "settings_exception")
    for name in ("number_of_shards", "number_of_replicas"):
        if name in settings and (not isinstance(settings[name], int) or settings[name] < 0):
            raise bad(f"index.{name} must be a non-negative integer", "settings_exception")
    if settings.get("number_of_shards", 1) < 1:
        raise bad("index.number_of_shards must be >= 1", "settings_exception")
    similarities = settings.get("similarity") or {}
    for name, sim in similarities.items():
        _keys(f"similarity {name}", sim, {"type", "k1", "b"}, {"type"})
        if sim["type"] != "BM25":
            raise ApiError(400, "double_unsupported", f"similarity type {sim['type']!r}")
        if not 0 <= float(sim.get("b", 0.75)) <= 1 or float(sim.get("k1", 1.2)) < 0:
            raise bad(f"similarity {name}: k1 must be >= 0 and b within [0, 1]")
    mappings = body.get("mappings") or {}
    _keys("mappings", mappings, {"dynamic", "_meta", "properties"})
    if mappings.get("dynamic", True) not in (True, False, "strict", "true", "false"):
        raise bad(f"dynamic must be true, false or strict, got {mappings['dynamic']!r}")
    spec = IndexSpec(settings, mappings)
    for name, definition in (mappings.get("properties") or {}).items():
        spec.fields[name] = _field(name, definition, settings)
    return spec


def _field(name: str, definition: Any, settings: dict[str, Any]) -> FieldSpec:
    kind = definition.get("type") if isinstance(definition, dict) else None
    if kind not in FIELD_PARAMETERS:
        raise ApiError(400, "mapper_parsing_exception", f"field [{name}]: unknown type {kind!r}")
    _keys(f"field [{name}]", definition, FIELD_PARAMETERS[kind], {"type"})
    spec = FieldSpec(
        kind,
        indexed=definition.get("index", True),
        doc_values=definition.get("doc_values", kind != "text"),
    )
    if kind == "text" and spec.indexed:
        analyzer = definition.get("analyzer", "standard")
        try:
            spec.analyzer = build_analyzer(analyzer, settings.get("analysis") or {})
        except Unsupported as exc:
            raise ApiError(400, "double_unsupported", f"field [{name}]: {exc}") from exc
        similarity = definition.get("similarity", "BM25")
        if similarity not in BUILTIN_SIMILARITIES:
            sim = (settings.get("similarity") or {}).get(similarity)
            if sim is None:
                raise bad(f"field [{name}]: unknown similarity [{similarity}]")
            spec.similarity = (float(sim.get("k1", 1.2)), float(sim.get("b", 0.75)))
    if kind == "knn_vector":
        _knn_field(name, definition, settings, spec)
    return spec


def _knn_field(name: str, definition: dict, settings: dict, spec: FieldSpec) -> None:
    if settings.get("knn") is not True:
        raise bad(f"field [{name}]: knn_vector with a method needs index.knn: true")
    dimension = definition.get("dimension")
    if not isinstance(dimension, int) or not 1 <= dimension <= 16_000:
        raise bad(f"field [{name}]: dimension must be an integer in [1, 16000]")
    method = definition.get("method") or {}
    _keys(f"field [{name}] method", method, {"name", "engine", "space_type", "parameters"},
          {"name"})  # fmt: skip
    engine = method.get("engine", "faiss")
    if method["name"] != "hnsw" or engine not in KNN_SPACES:
        raise ApiError(400, "double_unsupported", f"k-NN method {method} (hnsw on {KNN_SPACES})")
    space = method.get("space_type", definition.get("space_type", "l2"))
    if space not in KNN_SPACES[engine]:
        raise bad(f"field [{name}]: space [{space}] is not supported by engine [{engine}]")
    parameters = method.get("parameters") or {}
    unknown = set(parameters) - KNN_PARAMETERS[engine]
    if unknown:
        raise bad(f"field [{name}]: {engine} hnsw has no parameters {sorted(unknown)}")
    for key in ("m", "ef_construction", "ef_search"):
        if key in parameters and (not isinstance(parameters[key], int) or parameters[key] < 2):
            raise bad(f"field [{name}]: {key} must be an integer >= 2")
    spec.dimension, spec.space = dimension, space


def check_document(spec: IndexSpec, source: Any) -> None:
    """Refuse a document the mapping cannot take: unknown fields under ``dynamic: strict``,
    values of the wrong type, vectors of the wrong length, NaN, or a zero cosine vector."""
    if not isinstance(source, dict):
        raise bad("the document source must be an object", "mapper_parsing_exception")
    strict = spec.mappings.get("dynamic") in ("strict",)
    for name, value in source.items():
        field_spec = spec.fields.get(name)
        if field_spec is None:
            if strict:
                raise bad(
                    f"mapping set to strict, dynamic introduction of [{name}] within [_doc] "
                    "is not allowed",
                    "strict_dynamic_mapping_exception",
                )
            continue
        if value is None:
            continue
        _check_value(name, field_spec, value)


def _check_value(name: str, spec: FieldSpec, value: Any) -> None:
    def fail(why: str) -> ApiError:
        return bad(f"failed to parse field [{name}] of type [{spec.type}]: {why}",
                   "mapper_parsing_exception")  # fmt: skip

    if spec.type == "knn_vector":
        if not isinstance(value, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise fail("a vector is an array of numbers")
        if len(value) != spec.dimension:
            raise fail(f"vector has {len(value)} dimensions, the mapping {spec.dimension}")
        if not all(math.isfinite(v) for v in value):
            raise fail("vector contains NaN or infinity")
        if spec.space == "cosinesimil" and not any(value):
            raise fail("zero vector is not supported for cosinesimil")
        return
    values = value if isinstance(value, list) else [value]
    for item in values:
        if spec.type in ("keyword", "text") and not isinstance(item, str):
            raise fail(f"expected a string, got {item!r}")
        if spec.type in ("long", "integer") and (
            isinstance(item, bool) or not isinstance(item, int)
        ):
            raise fail(f"expected an integer, got {item!r}")
        if spec.type == "integer" and not -(2**31) <= item < 2**31:
            raise fail(f"{item} is out of range for an integer")
        if spec.type == "boolean" and not isinstance(item, bool):
            raise fail(f"expected a boolean, got {item!r}")
