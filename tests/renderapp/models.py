"""Every field type a list_display column can show, for the compiled renderer's equivalence tests."""

import uuid

from django.contrib import admin
from django.db import models


class Specimen(models.Model):
    GRADES = [("a", "Grade <A>"), ("b", "Grade B & co"), ("", "(ungraded)")]

    name = models.CharField(max_length=100)
    grade = models.CharField(max_length=1, choices=GRADES, blank=True)
    level = models.IntegerField(choices=[(1, "Low"), (2, "High")], null=True)
    text = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    url = models.URLField(blank=True)
    slug = models.SlugField(blank=True)
    count = models.IntegerField(null=True)
    big = models.BigIntegerField(default=0)
    small = models.PositiveSmallIntegerField(default=0)
    ratio = models.FloatField(null=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3, null=True)
    flag = models.BooleanField(default=False)
    maybe = models.BooleanField(null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    span = models.DurationField(null=True)
    uid = models.UUIDField(default=uuid.uuid4)
    data = models.JSONField(null=True)
    upload = models.FileField(blank=True)
    ip = models.GenericIPAddressField(null=True)
    parent = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)
    # A reference the database does not check: a dangling one raises DoesNotExist when read.
    ghost = models.ForeignKey("self", null=True, db_constraint=False, on_delete=models.DO_NOTHING, related_name="+")

    def __str__(self) -> str:
        return f"{self.name} <#{self.pk}>"

    @property
    def shout(self) -> str:
        return self.name.upper()

    @property
    @admin.display(boolean=True)
    def has_parent(self) -> bool | None:
        return None if self.count is None else self.parent_id is not None

    @property
    def missing_link(self) -> int:
        if self.count is None:
            raise Specimen.DoesNotExist("no count")
        return self.count

    @admin.display(boolean=True, description="big?")
    def is_big(self) -> bool:
        return self.big > 1000

    def next_day(self):
        return self.day and self.day.replace(day=min(self.day.day + 1, 28))
