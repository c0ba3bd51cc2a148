"""Per-call claim schema and validation of the claim values filled in during the call."""

from shared.claim.schema import (
    DEFAULT_CLAIM_SCHEMA,
    MAX_CLAIM_FIELDS,
    ClaimField,
    ClaimFieldType,
    ClaimSchema,
    ClaimValueError,
    build_claim_model,
    validate_claim,
    validate_claim_value,
)
from shared.claim.values import ParseContext, parse_datetime, parse_email, parse_phone_number, parse_text

__all__ = [
    "DEFAULT_CLAIM_SCHEMA",
    "MAX_CLAIM_FIELDS",
    "ClaimField",
    "ClaimFieldType",
    "ClaimSchema",
    "ClaimValueError",
    "ParseContext",
    "build_claim_model",
    "parse_datetime",
    "parse_email",
    "parse_phone_number",
    "parse_text",
    "validate_claim",
    "validate_claim_value",
]
