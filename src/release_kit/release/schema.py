"""Offline validation against the CycloneDX 1.6 JSON schema (strict: no unknown properties).

The schema files are the ones cyclonedx-python-lib ships. jsonschema checks ``uniqueItems`` by
comparing every pair of items, which takes seconds on a frontend SBOM of a thousand components;
here the same rule is checked in linear time by comparing each item's canonical JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[str] = set()
    for item in instance:
        key = json.dumps(item, sort_keys=True, separators=(",", ":"))
        if key in seen:
            yield ValidationError(f"{instance!r} has non-unique elements")
            return
        seen.add(key)


@cache
def _validator() -> Any:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.schema._res import BOM_JSON_STRICT, CRYPTOGRAPHY_DEFS, JSF, SPDX_JSON
    from jsonschema.validators import Draft7Validator, extend
    from referencing import Registry
    from referencing.jsonschema import DRAFT7

    prefix = "http://cyclonedx.org/schema/"
    resources = {
        "spdx.SNAPSHOT.schema.json": SPDX_JSON,
        "cryptography-defs.SNAPSHOT.schema.json": CRYPTOGRAPHY_DEFS,
        "jsf-0.82.SNAPSHOT.schema.json": JSF,
    }
    registry: Any = Registry().with_resources(
        (prefix + name, DRAFT7.create_resource(json.loads(Path(str(path)).read_text(encoding="utf-8"))))
        for name, path in resources.items()
    )
    strict = BOM_JSON_STRICT[SchemaVersion.V1_6]
    assert strict is not None
    with open(strict, encoding="utf-8") as handle:  # noqa: PTH123
        schema = json.load(handle)
    linear = extend(Draft7Validator, {"uniqueItems": _unique_items})
    return linear(schema, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def first_error(text: str) -> str | None:
    """The schema's first complaint about the JSON document ``text``, or None when it is valid."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        return f"not JSON: {exc}"
    error = next(iter(_validator().iter_errors(document)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(document)"
    return f"{where}: {error.message[:300]}"
