"""ClaimSchema validation, build_claim_model round-trips and ClaimValueError messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from shared.claim.schema import (
    DEFAULT_CLAIM_SCHEMA,
    MAX_CLAIM_FIELDS,
    RESERVED_FIELD_NAMES,
    ClaimField,
    ClaimFieldType,
    ClaimSchema,
    ClaimValueError,
    build_claim_model,
    validate_claim,
    validate_claim_value,
)
from shared.claim.values import ParseContext

PARIS = ZoneInfo("Europe/Paris")
CTX = ParseContext(now=datetime(2026, 11, 24, 10, 0, tzinfo=PARIS))
SCHEMA = ClaimSchema.model_validate(
    [
        {"name": "hardware_info", "type": "text"},
        {"name": "first_seen", "type": "datetime", "description": "  when the issue\n first appeared "},
        {"name": "email", "type": "email"},
        {"name": "callback_number", "type": "phone_number"},
    ]
)


def test_schema_parses_types_defaults_and_descriptions() -> None:
    assert SCHEMA.names == ("hardware_info", "first_seen", "email", "callback_number")
    assert [field.type for field in SCHEMA.fields] == [
        ClaimFieldType.TEXT,
        ClaimFieldType.DATETIME,
        ClaimFieldType.EMAIL,
        ClaimFieldType.PHONE_NUMBER,
    ]
    assert SCHEMA.fields[1].description == "when the issue first appeared"
    assert ClaimField(name="notes").type is ClaimFieldType.TEXT
    assert SCHEMA.get("first_seen") == SCHEMA.fields[1]
    assert SCHEMA.get("FIRST_SEEN") is None
    assert SCHEMA.get("FIRST_SEEN", ignore_case=True) == SCHEMA.fields[1]
    assert SCHEMA.get("nope") is None


def test_schema_json_round_trip_and_immutability() -> None:
    again = ClaimSchema.model_validate_json(SCHEMA.model_dump_json())
    assert again == SCHEMA
    with pytest.raises(ValidationError):
        SCHEMA.fields[0].name = "other"  # type: ignore[misc]


def test_default_schema() -> None:
    assert DEFAULT_CLAIM_SCHEMA.names == (
        "caller_name",
        "caller_email",
        "caller_phone",
        "incident_datetime",
        "incident_description",
    )
    assert all(field.description for field in DEFAULT_CLAIM_SCHEMA.fields)
    assert DEFAULT_CLAIM_SCHEMA.get("incident_datetime") == ClaimField(
        name="incident_datetime",
        type=ClaimFieldType.DATETIME,
        description=DEFAULT_CLAIM_SCHEMA.fields[3].description,
    )


def test_reserved_names_cover_pydantic_attributes() -> None:
    assert {"model_config", "schema", "json", "dict", "copy", "model_dump", "class"} <= RESERVED_FIELD_NAMES
    assert ClaimField(name="model_number").name == "model_number"  # only pydantic's own names are refused


@pytest.mark.parametrize(
    ("fields", "loc", "message"),
    [
        ([{"name": "1abc"}], (0, "name"), "must start with a letter"),
        ([{"name": "first seen"}], (0, "name"), "must start with a letter"),
        ([{"name": ""}], (0, "name"), "at least 1 character"),
        ([{"name": "x" * 41}], (0, "name"), "at most 40 characters"),
        ([{"name": "ok"}, {"name": "_private"}], (1, "name"), "'_private' is reserved"),
        ([{"name": "model_config"}], (0, "name"), "'model_config' is reserved"),
        ([{"name": "json"}], (0, "name"), "'json' is reserved"),
        ([{"name": "Schema"}], (0, "name"), "'Schema' is reserved"),
        ([{"name": "copy"}], (0, "name"), "'copy' is reserved"),
        ([{"name": "class"}], (0, "name"), "'class' is reserved"),
        ([{"name": "a", "type": "number"}], (0, "type"), "'text', 'datetime', 'email' or 'phone_number'"),
        ([{"name": "a", "description": "x" * 301}], (0, "description"), "at most 300 characters"),
        ([{"name": "a", "required": True}], (0, "required"), "Extra inputs are not permitted"),
        ([{"name": "email"}, {"name": "email"}], (), "'email' is used more than once"),
        ([{"name": "Email"}, {"name": "email"}], (), "'Email' and 'email' clash"),
        ([{"name": f"field_{i}"} for i in range(MAX_CLAIM_FIELDS + 1)], (), "at most 20 fields, got 21"),
    ],
)
def test_schema_errors(fields: list[dict[str, Any]], loc: tuple[int | str, ...], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ClaimSchema.model_validate(fields)
    errors = caught.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == loc
    assert message in errors[0]["msg"]


def test_schema_accepts_maximum_field_count() -> None:
    fields = [{"name": f"field_{i}"} for i in range(MAX_CLAIM_FIELDS)]
    assert len(ClaimSchema.model_validate(fields)) == MAX_CLAIM_FIELDS


def _claim_model() -> type[BaseModel]:
    return build_claim_model(SCHEMA, context=CTX)


def test_build_claim_model_normalises_values() -> None:
    claim = _claim_model().model_validate(
        {
            "hardware_info": "  Dell   XPS 13 ",
            "first_seen": "hier soir",
            "email": "John Dot Smith at Example dot com",
            "callback_number": "zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        }
    )
    assert claim.model_dump() == {
        "hardware_info": "Dell XPS 13",
        "first_seen": "2026-11-23T19:00:00+01:00",
        "email": "john.smith@example.com",
        "callback_number": "+33612345678",
    }


def test_build_claim_model_round_trip_and_optional_fields() -> None:
    model = _claim_model()
    empty = model()
    assert empty.model_dump() == dict.fromkeys(SCHEMA.names)
    claim = model.model_validate(
        {"first_seen": "2026-11-25T15:00:00+01:00", "callback_number": "+33612345678"}
    )
    again = model.model_validate_json(claim.model_dump_json())
    assert again == claim
    assert again.model_dump()["first_seen"] == "2026-11-25T15:00:00+01:00"


def test_build_claim_model_accepts_datetime_objects() -> None:
    claim = _claim_model().model_validate(
        {"first_seen": datetime(2026, 11, 25, 14, 0, tzinfo=ZoneInfo("UTC"))}
    )
    assert claim.model_dump()["first_seen"] == "2026-11-25T15:00:00+01:00"


def test_build_claim_model_rejects_bad_and_unknown_values() -> None:
    with pytest.raises(ValidationError) as caught:
        _claim_model().model_validate({"first_seen": "blue", "colour": "red"})
    by_field = {error["loc"][0]: error for error in caught.value.errors()}
    assert set(by_field) == {"first_seen", "colour"}
    assert (
        "'first_seen' expects a date and time; could not understand 'blue'" in by_field["first_seen"]["msg"]
    )
    assert by_field["colour"]["type"] == "extra_forbidden"


def test_build_claim_model_validates_assignment() -> None:
    claim = _claim_model()()  # a dynamic model: attributes are reached with setattr/getattr
    setattr(claim, "callback_number", "06 12 34 56 78")  # noqa: B010
    assert getattr(claim, "callback_number") == "+33612345678"  # noqa: B009
    with pytest.raises(ValidationError, match="'callback_number' expects a phone number"):
        setattr(claim, "callback_number", "12")  # noqa: B010
    assert getattr(claim, "callback_number") == "+33612345678"  # noqa: B009


def test_build_claim_model_json_schema_carries_descriptions() -> None:
    json_schema = _claim_model().model_json_schema()
    assert set(json_schema["properties"]) == set(SCHEMA.names)
    assert json_schema["properties"]["first_seen"]["description"] == "when the issue first appeared"
    assert json_schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("first_seen", "demain à 15h", "2026-11-25T15:00:00+01:00"),
        ("first_seen", "tomorrow at three pm", "2026-11-25T15:00:00+01:00"),
        ("email", "jean point dupont arobase orange point fr", "jean.dupont@orange.fr"),
        ("callback_number", "+1 (425) 555-0100", "+14255550100"),
        ("hardware_info", "  printer   jams ", "printer jams"),
    ],
)
def test_validate_claim_value(field: str, raw: object, expected: str) -> None:
    assert validate_claim_value(SCHEMA, field, raw, context=CTX) == expected


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("first_seen", "blue", "'first_seen' expects a date and time; could not understand 'blue'"),
        ("email", "john at", "'email' expects an email address; 'john@' is not a valid email address"),
        ("callback_number", "12", "'callback_number' expects a phone number; '12' is too short"),
        ("hardware_info", "   ", "'hardware_info' expects text; the value is empty"),
        ("hardware_info", None, "'hardware_info' expects text; no value was given"),
        ("hardware_info", ["a"], "'hardware_info' expects text; expected a string, got list"),
        (
            "colour",
            "red",
            "unknown claim field 'colour'; valid fields are: "
            "hardware_info, first_seen, email, callback_number",
        ),
        (
            "First_Seen",
            "demain",
            "unknown claim field 'First_Seen' (did you mean 'first_seen'?); valid fields are:",
        ),
    ],
)
def test_validate_claim_value_errors(field: str, raw: object, message: str) -> None:
    with pytest.raises(ClaimValueError) as caught:
        validate_claim_value(SCHEMA, field, raw, context=CTX)
    assert str(caught.value) == message or str(caught.value).startswith(message)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_validate_claim_returns_every_field() -> None:
    result = validate_claim(SCHEMA, {"first_seen": "lundi prochain à 10h", "email": None}, context=CTX)
    assert result == {
        "hardware_info": None,
        "first_seen": "2026-11-30T10:00:00+01:00",
        "email": None,
        "callback_number": None,
    }


def test_validate_claim_lists_every_bad_field() -> None:
    values = {"first_seen": "blue", "email": "x", "colour": "red", "hardware_info": "fine"}
    with pytest.raises(ClaimValueError) as caught:
        validate_claim(SCHEMA, values, context=CTX)
    error = caught.value
    assert error.fields == ("first_seen", "email", "colour")
    assert error.field == "first_seen"
    text = str(error)
    assert text.startswith("3 claim fields are invalid:")
    assert "- 'first_seen' expects a date and time; could not understand 'blue'" in text
    assert "- 'email' expects an email address; 'x' has no '@'" in text
    assert "- unknown claim field 'colour'" in text


def test_validate_claim_single_bad_field_message_is_plain() -> None:
    with pytest.raises(ClaimValueError) as caught:
        validate_claim(SCHEMA, {"callback_number": "banana"}, context=CTX)
    assert str(caught.value) == (
        "'callback_number' expects a phone number; could not understand the word 'banana' in a phone number"
    )
    assert caught.value.problems == {"callback_number": str(caught.value)}
