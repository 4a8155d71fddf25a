"""A small but realistic schema for the demo and the benchmark.

Every ordering the admin can ask for (default ordering, each sortable ``list_display`` column,
and the common "filter + default ordering" combination, e.g. ``(status, placed_at, id)``) has a
btree index ending in ``id``: keyset pagination seeks on ``(column, id)`` and needs exactly that
index to answer in milliseconds on tens of millions of rows. (A foreign-key column sorts by the
related model's ordering through a join, which no index on this table can serve.)
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Country(models.TextChoices):
    US = "US", "United States"
    GB = "GB", "United Kingdom"
    DE = "DE", "Germany"
    FR = "FR", "France"
    ES = "ES", "Spain"
    IT = "IT", "Italy"
    NL = "NL", "Netherlands"
    PL = "PL", "Poland"
    BR = "BR", "Brazil"
    IN = "IN", "India"
    JP = "JP", "Japan"
    CA = "CA", "Canada"


class Customer(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, choices=Country.choices, default=Country.US)
    created = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_id"),
            models.Index(fields=["email", "id"], name="customer_email_id"),
            models.Index(fields=["phone", "id"], name="customer_phone_id"),
            models.Index(fields=["created", "id"], name="customer_created_id"),
            models.Index(fields=["city", "id"], name="customer_city_id"),
            models.Index(fields=["country", "id"], name="customer_country_id"),
            models.Index(fields=["is_active", "id"], name="customer_active_id"),
            models.Index(fields=["country", "name", "id"], name="customer_country_name_id"),
            models.Index(fields=["is_active", "name", "id"], name="customer_active_name_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        WEB = "web", "Website"
        REFERRAL = "referral", "Referral"
        ADS = "ads", "Advertising"
        EVENT = "event", "Event"
        COLD = "cold", "Cold call"

    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.WEB)
    score = models.IntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )

    class Meta:
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["created", "id"], name="lead_created_id"),
            models.Index(fields=["status", "id"], name="lead_status_id"),
            models.Index(fields=["source", "id"], name="lead_source_id"),
            models.Index(fields=["phone", "id"], name="lead_phone_id"),
            models.Index(fields=["status", "created", "id"], name="lead_status_created_id"),
            models.Index(fields=["source", "created", "id"], name="lead_source_created_id"),
            models.Index(fields=["name", "id"], name="lead_name_id"),
            models.Index(fields=["score", "id"], name="lead_score_id"),
            models.Index(fields=["email", "id"], name="lead_email_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class LeadNote(Lead):
    """Leads searched by the words of their notes (``search_fields = ["@notes"]``, full text): the
    same rows as :class:`Lead`, an admin of their own."""

    class Meta:
        proxy = True
        verbose_name = "lead by notes"
        verbose_name_plural = "leads by notes"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    placed_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["placed_at", "id"], name="order_placed_id"),
            models.Index(fields=["status", "id"], name="order_status_id"),
            models.Index(fields=["status", "placed_at", "id"], name="order_status_placed_id"),
            models.Index(fields=["customer", "placed_at", "id"], name="order_customer_placed_id"),
            models.Index(fields=["number", "id"], name="order_number_id"),
            models.Index(fields=["total", "id"], name="order_total_id"),
            models.Index(fields=["shipped_at", "id"], name="order_shipped_id"),
        ]

    def __str__(self) -> str:
        return self.number



class AuditEvent(models.Model):
    """Who did what, when: an append-mostly log partitioned by month (``PARTITION BY RANGE (created)``,
    migration 0003; Django has no native partitioning). The database's primary key is (id, created),
    as PostgreSQL requires the partition key in it; ``id`` is identity-generated, hence unique."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        LOGIN = "login", "Login"

    created = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_repr = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "shop_auditevent"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_repr}".strip()


class OrderLine(models.Model):
    """What an order holds; deleted with its order (``CASCADE``)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"


class Invoice(models.Model):
    """An issued invoice keeps its order (``PROTECT``): a bulk delete leaves invoiced orders and says so."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=20)
    issued_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.number


class SeedRun(models.Model):
    """A completed ``manage.py seed``: how many orders it loaded. ``seed --if-needed`` (``make demo``)
    trusts this record, not row counts, so rows staff add or edit afterwards never trigger a re-seed."""

    rows = models.PositiveIntegerField()
    finished_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"seed of {self.rows:,} orders at {self.finished_at:%Y-%m-%d %H:%M}"
