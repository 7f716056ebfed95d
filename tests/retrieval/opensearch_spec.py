"""Checks recorded requests against the OpenSearch OpenAPI specification itself.

The specification (github.com/opensearch-project/opensearch-api-specification, Apache-2.0) is
not part of this repository: point ``DOCENT_TEST_OPENSEARCH_SPEC`` at a checkout of it (the
folder holding ``spec/``). Each request must match an operation (method and path template),
use only query parameters that operation or the global ones declare, and have a body that
validates (JSON Schema 2020-12, as OpenAPI 3.1 uses) against the operation's request body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "file:///spec/"


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    file: str  # URI of the namespace file
    entry: dict[str, Any]


class Spec:
    """The operations, parameters and request-body schemas of the specification."""

    def __init__(self, root: Path) -> None:
        spec = root / "spec"
        if not (spec / "namespaces").is_dir():
            raise FileNotFoundError(f"{root} holds no spec/namespaces (not the API spec)")
        resources = []
        self.documents: dict[str, Any] = {}
        for path in sorted(spec.rglob("*.yaml")):
            uri = BASE + path.relative_to(spec).as_posix()
            document = yaml.safe_load(path.read_text())
            self.documents[uri] = document
            resources.append((uri, Resource.from_contents(document, DRAFT202012)))
        self.registry: Registry = Registry().with_resources(resources)
        self.operations: list[Operation] = []
        for uri, document in self.documents.items():
            if "/namespaces/" not in uri:
                continue
            for template, methods in (document.get("paths") or {}).items():
                pattern = re.compile(re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
                for method, entry in methods.items():
                    if isinstance(entry, dict) and "operationId" in entry:
                        operation = Operation(
                            entry["operationId"], method.upper(), template, pattern, uri, entry
                        )
                        self.operations.append(operation)

    def _lookup(self, base: str, ref: str) -> tuple[str, Any]:
        resolved = self.registry.resolver(base_uri=base).lookup(ref)
        return urljoin(base, ref).split("#", 1)[0], resolved.contents

    def find(self, method: str, path: str) -> Operation:
        found = [o for o in self.operations if o.method == method and o.pattern.match(path)]
        if not found:
            raise AssertionError(f"no operation in the spec for {method} {path}")
        # the most specific template (fewest placeholders) wins: /_bulk before /{index}
        return min(found, key=lambda o: o.template.count("{"))

    def parameters(self, operation: Operation) -> set[str]:
        """Names of the query parameters ``operation`` declares (plus the global ones)."""
        names = set()
        for ref in operation.entry.get("parameters", []):
            _, param = self._lookup(operation.file, ref["$ref"])
            if param.get("in") == "query":
                names.add(param["name"])
        globals_ = self.documents[BASE + "_global_parameters.yaml"]["components"]["parameters"]
        return names | {p["name"] for p in globals_.values() if p.get("in") == "query"}

    def errors(self, operation: Operation, body: Any) -> list[str]:
        """Why ``body`` does not fit the operation's request body (empty when it does)."""
        request = operation.entry.get("requestBody")
        if request is None:
            return [] if body is None else [f"{operation.id} takes no body"]
        ref = request["$ref"]
        base, resolved = self._lookup(operation.file, ref)
        if body is None:
            return [f"{operation.id} needs a body"] if resolved.get("required") else []
        ((media, _),) = resolved["content"].items()
        escaped = media.replace("~", "~0").replace("/", "~1")
        pointer = f"{ref.split('#', 1)[1]}/content/{escaped}/schema"
        validator = LenientOneOf({"$ref": f"{base}#{pointer}"}, registry=self.registry)
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in validator.iter_errors(body)
        ]


def _one_of_as_any_of(validator: Any, one_of: Any, instance: Any, schema: Any) -> Any:
    errors = []
    for index, subschema in enumerate(one_of):
        found = list(validator.descend(instance, subschema, schema_path=index))
        if not found:
            return
        errors.extend(found)
    yield jsonschema.ValidationError(
        f"{instance!r} is not valid under any of the given schemas", context=errors
    )


# The specification's ``oneOf`` alternatives overlap in places (a sort ``{"doc_id": "asc"}``
# fits both FieldWithDirection and SortOptions, which does not close its properties), so a
# strict oneOf refuses bodies OpenSearch documents; it is checked as anyOf.
LenientOneOf = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"oneOf": _one_of_as_any_of}
)


def body_of(recorded: Any) -> Any:
    """A recorded request's body as the spec describes it (NDJSON: a list of objects)."""
    if not recorded.body:
        return None
    text = recorded.body.decode()
    if recorded.op == "bulk":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)
