"""Relations, inheritance and managers the filter and object-cache tests need: tenants, soft delete,
a proxy, multi-table inheritance, reverse and generic relations, ``limit_choices_to``."""

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class LiveManager(models.Manager):
    """Soft delete: the default manager hides deleted rows (``_base_manager`` does not)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted=False)


class Place(models.Model):
    name = models.CharField(max_length=100)
    city = models.CharField(max_length=50, null=True)  # noqa: DJ001 - NULLs are part of the case
    tenant = models.CharField(max_length=20, default="a")
    deleted = models.BooleanField(default=False)

    objects = LiveManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProxyPlace(Place):
    class Meta:
        proxy = True


class Restaurant(Place):
    serves = models.CharField(max_length=50, default="pizza")


class Guest(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Visit(models.Model):
    note = models.CharField(max_length=100)
    tenant = models.CharField(max_length=20, default="a")
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.CASCADE, related_name="visits",
        limit_choices_to={"city": "Oslo"},
    )
    guests = models.ManyToManyField(Guest, blank=True, related_name="visits")
    tags = GenericRelation(Tag)

    def __str__(self) -> str:
        return self.note
