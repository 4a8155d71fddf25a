"""fastadmin.tokens.dump_value: every model value type to JSON and back (load_value), the exact types by
their table, subclasses by the isinstance chain, to the same JSON."""

import datetime
import decimal
import json
import uuid

import pytest
from django.db import models

from fastadmin.tokens import dump_value, load_value

UTC = datetime.UTC


class Moment(datetime.datetime):
    pass


class Amount(decimal.Decimal):
    pass


class Raw(bytes):
    pass


CASES = [
    (models.DateTimeField(), datetime.datetime(2024, 2, 29, 23, 59, 1, 5, tzinfo=UTC),
     "2024-02-29T23:59:01.000005+00:00"),
    (models.DateField(), datetime.date(2024, 2, 29), "2024-02-29"),
    (models.TimeField(), datetime.time(7, 5, 3), "07:05:03"),
    (models.DecimalField(max_digits=9, decimal_places=3), decimal.Decimal("-12.500"), "-12.500"),
    (models.UUIDField(), uuid.UUID(int=7), "00000000-0000-0000-0000-000000000007"),
    (models.DurationField(), datetime.timedelta(days=1, microseconds=3), 86400.000003),
    (models.BinaryField(), b"\x00\xffab", "AP9hYg=="),
    (models.BinaryField(), memoryview(b"\x00\xffab"), "AP9hYg=="),
    (models.CharField(), "ä<b>", "ä<b>"),
    (models.IntegerField(), 12345678901234567890, 12345678901234567890),
    (models.FloatField(), 0.1, 0.1),
    (models.BooleanField(), True, True),
    (models.IntegerField(null=True), None, None),
    (models.JSONField(), {"k": [1, "x"]}, {"k": [1, "x"]}),
]


@pytest.mark.parametrize(("field", "value", "dumped"), CASES, ids=lambda v: type(v).__name__)
def test_dump_and_load(field, value, dumped):
    assert dump_value(value) == dumped
    assert json.loads(json.dumps(dump_value(value))) == dumped
    assert load_value(field, dump_value(value)) == (bytes(value) if isinstance(value, memoryview) else value)


@pytest.mark.parametrize(("value", "dumped"), [
    (Moment(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05+00:00"),
    (Amount("1.50"), "1.50"),
    (Raw(b"\x01"), "AQ=="),
    ([datetime.date(2024, 1, 2), (decimal.Decimal("1"), None)], ["2024-01-02", ["1", None]]),
])
def test_subclasses_and_sequences_dump_as_their_base_types(value, dumped):
    assert dump_value(value) == dumped
