from django.db import models


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
