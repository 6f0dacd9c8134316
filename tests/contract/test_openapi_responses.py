"""Every success response the OpenAPI document describes has a schema, and the real answers of
every route (in-process, over the demo sandbox) validate against the schema it serves, so the
document cannot drift from what the routes return."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from functions.openapi import ROUTE_PREFIX, openapi_document
from tests.contract.openapi_calls import every_route_called


def _json_schema(schema: Any) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable: true` adds "null" to the type."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {k: _json_schema(v) for k, v in schema.items() if k not in ("nullable", "example")}
    if schema.get("nullable") and "type" in schema:
        converted["type"] = [schema["type"], "null"]
    return converted


def _success_schemas() -> dict[tuple[str, str, str], Any]:
    found = {}
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if status.startswith("2") and "application/json" in content:
                    route = path.removeprefix(ROUTE_PREFIX + "/")
                    found[(route, method.upper(), status)] = content["application/json"]["schema"]
    return found


def test_every_json_success_response_has_a_schema_with_properties() -> None:
    schemas = _success_schemas()
    assert len(schemas) >= 22
    empty = [key for key, schema in schemas.items() if not schema.get("properties")]
    assert empty == []


def test_every_route_answers_what_its_served_schema_says() -> None:
    schemas = _success_schemas()
    validated = set()
    for name, method, route, response in every_route_called():
        key = (route, method, str(response.status_code))
        assert key in schemas, f"{name}: {key} is not described"
        assert response.mimetype == "application/json", name
        body = json.loads(response.get_body())
        schema = _json_schema(schemas[key])
        jsonschema.Draft202012Validator.check_schema(schema)
        errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(body)]
        assert errors == [], f"{name}: {errors[:5]}"
        validated.add(key)
    assert set(schemas) - validated == set(), "described but never checked"


@pytest.mark.parametrize(
    ("body", "wanted"),
    [({"status": "ok"}, "'version' is a required property"),
     ({"status": 1, "version": "1"}, "1 is not of type 'string'")],
)  # fmt: skip
def test_the_check_refuses_an_answer_that_drifts(body: dict[str, Any], wanted: str) -> None:
    schema = _json_schema(_success_schemas()[("health", "GET", "200")])
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(body)]
    assert wanted in errors
