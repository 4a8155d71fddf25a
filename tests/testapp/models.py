from collections import Counter

from django.db import models

from fastadmin.fields import VersionField


class Category(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """Sort columns with many duplicates and NULLs: the cases keyset pagination gets wrong."""

    KINDS = [("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")]

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=1, choices=KINDS)
    rank = models.IntegerField(null=True)  # duplicates and NULLs
    label = models.CharField(max_length=20, null=True)  # noqa: DJ001 - text with duplicates and NULLs
    created = models.DateTimeField(null=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    active = models.BooleanField(default=True)
    category = models.ForeignKey(Category, null=True, on_delete=models.CASCADE)

    class Meta:
        indexes = [
            models.Index(fields=["rank", "id"]),
            models.Index(fields=["created", "id"]),
            models.Index(fields=["kind", "id"]),
        ]

    def __str__(self) -> str:
        return self.name


class Note(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    text = models.TextField()

    def __str__(self) -> str:
        return self.text[:30]

#: ``Model.save()`` calls per (model name, pk): every admin write path must run it once per saved row.
SAVES: Counter = Counter()


def count_save(obj: models.Model) -> None:
    SAVES[(type(obj).__name__, obj.pk)] += 1


class EditableFields(models.Model):
    """The columns the locking tests edit concurrently (status/city: the issue's example)."""

    STATUSES = [("new", "New"), ("open", "Open"), ("won", "Won"), ("lost", "Lost")]

    name = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=STATUSES, default="new")
    city = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Category, blank=True, related_name="+")
    # Free text the stress test appends markers to (one editor's change must never vanish).
    notes = models.TextField(blank=True)
    memo = models.TextField(blank=True)
    log = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        count_save(self)
        super().save(*args, **kwargs)


class Gadget(EditableFields):
    """Versionless: conflicts are found by comparing the shown values with the row under FOR UPDATE."""


class Ticket(EditableFields):
    """Versioned: conflicts are found by ``UPDATE ... WHERE version = %s``."""

    version = VersionField()


class Part(models.Model):
    """An inline of Gadget (inline rows are merged like the parent: see test_locking_writes)."""

    gadget = models.ForeignKey(Gadget, on_delete=models.CASCADE)
    label = models.CharField(max_length=50)
    qty = models.IntegerField(default=0)
    # Free text the inline stress scenario appends markers to.
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        count_save(self)
        super().save(*args, **kwargs)


class SecretTicket(Ticket):
    """A Ticket whose admin excludes ``memo``: its value must appear in no page and no token."""

    class Meta:
        proxy = True


# ------------------------------------------------------------------ site-wide delete (test_delete_action)
class Shelf(models.Model):
    """The root of a cascade tree: Shelf -> Book -> Chapter, with PROTECT/RESTRICT/DO_NOTHING edges."""

    name = models.CharField(max_length=50)
    kind = models.CharField(max_length=1, default="a")

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)
    title = models.CharField(max_length=50)
    tags = models.ManyToManyField(Category, blank=True, related_name="+")

    def __str__(self) -> str:
        return self.title


class Chapter(models.Model):
    """Two cascades away from Shelf: its delete permission must be checked too."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    title = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.title


class Loan(models.Model):
    """PROTECTs a book, so a shelf holding a lent book can't be deleted."""

    book = models.ForeignKey(Book, on_delete=models.PROTECT)
    borrower = models.CharField(max_length=50)

    def __str__(self) -> str:
        return f"loan to {self.borrower}"


class ShelfLabel(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.RESTRICT)
    text = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.text


class Sticker(models.Model):
    """DO_NOTHING: the database's (deferred) foreign key is what stops a delete."""

    shelf = models.ForeignKey(Shelf, on_delete=models.DO_NOTHING)

    def __str__(self) -> str:
        return f"sticker {self.pk}"


class Event(models.Model):
    """A declaratively partitioned table (migration 0005): by month on ``created``, one month again by
    halves. Its primary key is (id, created) in the database, as PostgreSQL requires the partition
    key in it; Django knows ``id`` (identity-generated, so unique)."""

    created = models.DateTimeField()
    kind = models.CharField(max_length=1)
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "testapp_event"  # created by RunSQL in the migration: Django has no PARTITION BY

    def __str__(self) -> str:
        return self.name
