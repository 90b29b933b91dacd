"""``GET /openapi.json``: the scoring API, with the model's real input schema.

MLflow's scoring server publishes FastAPI's default document, which says nothing
about the columns a model takes. This one names every column of the signature, its
JSON type and whether it is required, in each of the JSON request formats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mltrail._version import __version__

if TYPE_CHECKING:
    from mltrail.serving._model import ServedModel

__all__ = ["openapi_document"]

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "float": {"type": "number", "format": "float"},
    "double": {"type": "number", "format": "double"},
    "string": {"type": "string"},
    "binary": {"type": "string", "format": "byte"},
    "datetime": {"type": "string", "format": "date-time"},
}


def _value_schema(kind: str | None, required: bool) -> dict[str, Any]:
    schema = dict(_JSON_TYPES.get(kind or "", {}))
    if not required:
        schema = {"anyOf": [schema, {"type": "null"}]} if schema else {}
    return schema


def _formats(model: ServedModel) -> dict[str, Any]:
    """Return the JSON request body's schema for each of MLflow's formats."""
    signature = model.schema
    row_item: dict[str, Any] = {}
    record: dict[str, Any] = {"type": "object"}
    if signature is not None and signature.has_names and not signature.is_tensor_spec:
        properties = {
            str(spec.name): _value_schema(
                getattr(spec, "type", None), bool(getattr(spec, "required", True))
            )
            for spec in signature.inputs
        }
        required = [
            str(spec.name)
            for spec in signature.inputs
            if getattr(spec, "required", True)
        ]
        record = {"type": "object", "properties": properties, "required": required}
        row_item = {
            "type": "array",
            "prefixItems": list(properties.values()),
            "minItems": len(properties),
        }
    params = {"params": {"type": "object"}}
    return {
        "dataframe_split": {
            "type": "object",
            "required": ["dataframe_split"],
            "properties": {
                "dataframe_split": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "data": {
                            "type": "array",
                            "items": row_item or {"type": "array"},
                        },
                        "index": {"type": "array"},
                    },
                },
                **params,
            },
        },
        "dataframe_records": {
            "type": "object",
            "required": ["dataframe_records"],
            "properties": {
                "dataframe_records": {"type": "array", "items": record},
                **params,
            },
        },
        "instances": {
            "type": "object",
            "required": ["instances"],
            "properties": {"instances": {"type": "array"}, **params},
        },
        "inputs": {
            "type": "object",
            "required": ["inputs"],
            "properties": {"inputs": {}, **params},
        },
    }


def openapi_document(model: ServedModel) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of a scoring server for ``model``."""
    formats = _formats(model)
    error = {
        "description": "MLflow's error body.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "error_code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                }
            }
        },
    }
    signature = model.schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"mltrail scoring server: {model.uri}",
            "version": __version__,
            "description": "MLflow's scoring protocol. The model's input signature: "
            + (signature.to_json() if signature is not None else "none (any input)."),
        },
        "components": {"schemas": formats},
        "paths": {
            "/invocations": {
                "post": {
                    "summary": "Predict",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": f"#/components/schemas/{name}"}
                                        for name in formats
                                    ]
                                }
                            },
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.apache.parquet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Predictions, and validation warnings.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["predictions"],
                                        "properties": {
                                            "predictions": {"type": "array"},
                                            "warnings": {"type": "array"},
                                        },
                                    }
                                }
                            },
                        },
                        "400": error,
                        "415": error,
                    },
                }
            },
            "/ping": {
                "get": {
                    "summary": "Health",
                    "responses": {"200": {"description": "Up"}},
                }
            },
            "/health": {
                "get": {
                    "summary": "Health",
                    "responses": {"200": {"description": "Up"}},
                }
            },
            "/version": {
                "get": {
                    "summary": "Version",
                    "responses": {"200": {"description": "mltrail's version"}},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {"200": {"description": "Text format"}},
                }
            },
        },
    }
