"""``Message``: typed fields from a query string or a JSON body, MLflow's errors."""

from __future__ import annotations

import asyncio
import json
import math

import pytest
from starlette.requests import Request

from mltrail.server._errors import ApiError
from mltrail.server._messages import Message, json_response, read_message, to_number


def _json(**fields: object) -> Message:
    return Message(fields, from_query=False)


def _query(**fields: list[str]) -> Message:
    return Message(fields, from_query=True)


def test_query_fields_take_the_last_value() -> None:
    message = _query(name=["a", "b"], empty=[])
    assert message.text("name") == "b"
    assert message.text("empty") is None
    assert message.has("name")
    assert not message.has("other")


@pytest.mark.parametrize(
    ("value", "expected"), [("x", "x"), (3, "3")], ids=["str", "int"]
)
def test_text_accepts_strings_and_ints(value: object, expected: str) -> None:
    assert _json(id=value).text("id") == expected


@pytest.mark.parametrize("value", [True, 1.5, [1], {"a": 1}])
def test_text_refuses_other_types(value: object) -> None:
    with pytest.raises(ApiError, match=r"Invalid value .* for parameter 'id'"):
        _json(id=value).text("id")


def test_required_text_refuses_absent_and_empty() -> None:
    for message in (_json(), _json(name="")):
        with pytest.raises(ApiError, match="Missing value for required parameter"):
            message.required_text("name")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), ("12", 12), (" 7 ", 7), (4.0, 4), (None, None)],
)
def test_integer_parses_proto_forms(value: object, expected: int | None) -> None:
    assert _json(n=value).integer("n") == expected


@pytest.mark.parametrize("value", [True, "x", 1.5, [1]])
def test_integer_refuses_non_integers(value: object) -> None:
    with pytest.raises(ApiError, match="expected an integer"):
        _json(n=value).integer("n")


def test_required_integer_and_number() -> None:
    with pytest.raises(ApiError, match="Missing value"):
        _json().integer("n", required=True)
    with pytest.raises(ApiError, match="Missing value"):
        _json().number("v", required=True)
    assert _json().number("v") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1.0),
        (0.5, 0.5),
        ("2.5", 2.5),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
    ],
)
def test_number_parses_numbers_and_proto_strings(
    value: object, expected: float
) -> None:
    assert to_number("v", value) == expected


def test_number_parses_nan() -> None:
    assert math.isnan(to_number("v", "NaN"))


@pytest.mark.parametrize("value", [True, "abc", None, [1.0]])
def test_number_refuses_non_numbers(value: object) -> None:
    with pytest.raises(ApiError, match="expected a number"):
        to_number("v", value)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (_json(), False),
        (_json(flag=True), True),
        (_query(flag=["true"]), True),
        (_query(flag=["False"]), False),
        (_query(flag=["1"]), True),
    ],
)
def test_boolean(message: Message, expected: bool) -> None:
    assert message.boolean("flag") is expected


def test_boolean_refuses_other_text() -> None:
    with pytest.raises(ApiError, match="expected true or false"):
        _query(flag=["maybe"]).boolean("flag")


def test_texts_reads_repeated_fields() -> None:
    assert _query(ids=["1", "2"]).texts("ids") == ["1", "2"]
    assert _json(ids=["1", 2]).texts("ids") == ["1", "2"]
    assert _json(ids="1").texts("ids") == ["1"]
    assert _json().texts("ids") == []
    with pytest.raises(ApiError, match="a list of strings"):
        _json(ids=[None]).texts("ids")


def test_objects_reads_lists_of_objects() -> None:
    assert _json(tags=[{"key": "a"}]).objects("tags") == [{"key": "a"}]
    assert _json().objects("tags") == []
    with pytest.raises(ApiError, match="a list of objects"):
        _json(tags=["a"]).objects("tags")
    with pytest.raises(ApiError, match="in a JSON body"):
        _query(tags=["a"]).objects("tags")


def test_run_id_reads_either_name() -> None:
    assert _json(run_uuid="r").run_id() == "r"
    assert _json(run_id="r", run_uuid="r").run_id() == "r"
    with pytest.raises(ApiError, match="Missing value for required parameter 'run_id'"):
        _json().run_id()


def test_json_response_writes_non_finite_numbers_as_proto_strings() -> None:
    response = json_response({"values": [math.nan, math.inf, -math.inf, 1.5]})
    assert response.body == b'{"values":["NaN","Infinity","-Infinity",1.5]}'


@pytest.mark.parametrize(
    "content",
    [
        {"runs": [{"value": 0.1, "step": 2**63 - 1, "timestamp": -(2**63)}]},
        {"big": 2**64 - 1, "bigger": 2**70, "negative": -(2**64), "zero": -0.0},
        {"text": 'caf\u00e9 \u2603 "q" \\', "none": None, "flag": True},
        {1: "int key", "tiny": 5e-324, "huge": 1.7976931348623157e308},
    ],
    ids=["int64", "beyond-int64", "text-and-null", "int-key"],
)
def test_json_response_writes_what_json_writes(content: dict[object, object]) -> None:
    expected = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    assert json_response(content).body == expected.encode()


def test_json_response_keeps_non_finite_numbers_beside_nulls() -> None:
    response = json_response({"a": None, "b": [math.nan, 2**70]})
    assert response.body == b'{"a":null,"b":["NaN",1180591620717411303424]}'


def _post(body: bytes) -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", b"application/json")],
        "query_string": b"",
    }
    return Request(scope, receive)


@pytest.mark.parametrize(
    "body",
    [
        b'{"step": 123456789012345678901234567890, "value": 0.30000000000000004}',
        b'{"big": 18446744073709551615, "low": -9223372036854775808}',
        b'{"value": NaN, "other": -Infinity, "huge": 1e400}',
        b'{"text": "\\ud800 lone", "key": "a", "key": "b", "zero": -0.0}',
        b'\xef\xbb\xbf{"bom": 1}',
    ],
    ids=["beyond-int64", "int64-edges", "non-finite", "surrogate", "bom"],
)
def test_read_message_reads_bodies_as_json_does(body: bytes) -> None:
    message = asyncio.run(read_message(_post(body)))
    expected = json.loads(body)
    assert repr(dict(message.fields)) == repr(expected)


def test_read_message_names_invalid_json() -> None:
    with pytest.raises(ApiError, match="not valid JSON: Expecting value at character"):
        asyncio.run(read_message(_post(b'{"a": }')))
    with pytest.raises(ApiError, match="not valid UTF-8 JSON"):
        asyncio.run(read_message(_post(b'{"a": "\xff"}')))


def test_fields_are_kept() -> None:
    assert _json(a=1).fields == {"a": 1}
