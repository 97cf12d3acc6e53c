"""One movement registry: the database's kinds, the enum, the engine's registry and the batch
layout name the same movement kinds, and every request type reaches its check
(docs/howto-add-a-movement-type.md)."""

from __future__ import annotations

import re
from dataclasses import MISSING, fields
from typing import Any, cast

import pytest
from sqlalchemy import CheckConstraint, Table

from data.models import MOVEMENT_KINDS, Movement
from services.batch import processing
from services.batch.files import BatchLineData
from services.batch.layout import BATCH_KINDS, COLUMNS, MOVEMENT_CODES, NOT_IN_BATCH
from services.movements import requests
from services.movements.engine import MOVEMENT_TYPES, Checking, check_request
from services.rules.movements import MOVEMENT_LABELS, MovementKind

KINDS = {k.value for k in MovementKind}


def test_the_database_allows_exactly_the_kinds_of_the_enum():
    assert set(MOVEMENT_KINDS) == KINDS
    (check,) = [
        c
        for c in cast(Table, Movement.__table__).constraints
        if isinstance(c, CheckConstraint) and str(c.name).endswith("_kind")
    ]
    assert set(re.findall(r"'([a-z_]+)'", str(check.sqltext))) == KINDS


def test_the_registry_has_one_request_type_and_check_per_kind():
    assert set(MOVEMENT_TYPES) == set(MovementKind)
    for kind, movement in MOVEMENT_TYPES.items():
        assert movement.kind is kind
        assert movement.request.kind is kind


def test_every_request_type_of_the_requests_module_is_in_the_registry():
    request_types = {
        obj
        for obj in vars(requests).values()
        if isinstance(obj, type)
        and issubclass(obj, requests.Request)
        and obj is not requests.Request
    }
    assert request_types == {m.request for m in MOVEMENT_TYPES.values()}


def test_every_kind_has_a_label():
    assert set(MOVEMENT_LABELS) == set(MovementKind)


def test_the_batch_layout_has_a_code_for_every_kind_or_says_why_not():
    assert set(MOVEMENT_CODES.values()) == BATCH_KINDS
    assert BATCH_KINDS.isdisjoint(NOT_IN_BATCH)
    assert BATCH_KINDS | set(NOT_IN_BATCH) == set(MovementKind)
    assert all(reason.strip() for reason in NOT_IN_BATCH.values())


def test_every_batch_kind_has_a_column_required_for_it_besides_the_kind():
    for kind in BATCH_KINDS:
        assert any(kind in c.required_for for c in COLUMNS if c.name != "tipo_movimento"), kind


@pytest.mark.parametrize("kind", sorted(BATCH_KINDS))
def test_a_batch_line_gives_every_required_field_of_its_request_type(kind: MovementKind):
    line = BatchLineData(2, kind, {}, raw={})
    given = processing._line_fields(None, None, None, line)  # type: ignore[arg-type]
    request_type: Any = MOVEMENT_TYPES[kind].request
    required = {
        f.name
        for f in fields(request_type)
        if f.default is MISSING and f.default_factory is MISSING
    }
    assert required <= set(given), f"{kind}: no column gives {required - set(given)}"


def test_a_request_of_the_wrong_type_for_its_kind_is_a_programming_error():
    class Wrong(requests.Request):
        kind = MovementKind.INCLUSION

    with pytest.raises(TypeError):
        check_request(Checking(None, None, None), Wrong())  # type: ignore[arg-type]
