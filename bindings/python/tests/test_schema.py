"""Cards validate against the committed JSON Schema with an independent validator
(the `jsonschema` package), so other languages can rely on it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import tracecard
from conftest import REPO

SCHEMA = json.loads((REPO / "schema" / "tracecard.schema.json").read_text())


def test_committed_schema_is_the_packages_schema() -> None:
    assert json.loads(tracecard.TraceCard.json_schema()) == SCHEMA


def test_every_fixture_card_validates(fixtures: Path) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    checked = 0
    for path in tracecard.discover(fixtures):
        if tracecard.detect(path) is None:
            continue
        for trace in tracecard.load_all(path):
            card = json.loads(trace.compile().to_json())
            errors = sorted(validator.iter_errors(card), key=lambda e: list(e.path))
            assert not errors, f"{path}: {errors[0].message} at {list(errors[0].path)}"
            checked += 1
    assert checked >= 60


def test_schema_rejects_a_broken_card(fixtures: Path) -> None:
    card = json.loads(tracecard.load(fixtures / "openhands" / "basic.json").compile().to_json())
    card["steps"][0]["kind"] = "teleport"
    del card["total_cost_usd"]
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(card))
    assert len(errors) == 2, [e.message for e in errors]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(card, SCHEMA)
