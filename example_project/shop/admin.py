"""The shop's admin options, written once and registered on two sites.

Each ``*Options`` class below is a plain mixin holding ordinary ``ModelAdmin`` options. Every model
is then registered twice with the *same* options:

* on ``fastadmin.site`` (mounted at ``/admin/``) as ``(Options, fastadmin.ModelAdmin)``;
* on a plain Django ``AdminSite`` (mounted at ``/stock-admin/``, see
  ``example_project/admin_sites.py`` for why it is not ``admin.site`` itself) as
  ``(Options, admin.ModelAdmin)``.

That is the whole migration story for a real project (swap the base class), and it makes
``manage.py benchmark`` compare like with like. A third registration, on ``/tuned-admin/``, is stock
with the usual expert tuning (:mod:`shop.tuned`).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from example_project.admin_sites import stock_site, tuned_site

import fastadmin

from .models import AuditEvent, Customer, Lead, LeadNote, Order
from .tuned import TunedModelAdmin

# --------------------------------------------------------------------------- custom list filters


class ShippingFilter(admin.SimpleListFilter):
    """Orders by shipping state (``shipped_at`` is NULL for roughly 40% of seeded orders)."""

    title = "shipping"
    parameter_name = "shipping"

    def lookups(self, request, model_admin):
        return [
            ("unshipped", "Not shipped yet"),
            ("shipped", "Shipped"),
            ("stuck", "Paid, unshipped > 14 days"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "unshipped":
            return queryset.filter(shipped_at__isnull=True)
        if value == "shipped":
            return queryset.filter(shipped_at__isnull=False)
        if value == "stuck":
            return queryset.filter(
                status=Order.Status.PAID,
                shipped_at__isnull=True,
                placed_at__lt=timezone.now() - timedelta(days=14),
            )
        return queryset


class ScoreBandFilter(admin.SimpleListFilter):
    """Leads by score band; ``score`` is NULL for unscored leads."""

    title = "score"
    parameter_name = "score_band"

    def lookups(self, request, model_admin):
        return [("hot", "Hot (80+)"), ("warm", "Warm (40-79)"), ("cold", "Cold (< 40)"), ("none", "Unscored")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "hot":
            return queryset.filter(score__gte=80)
        if value == "warm":
            return queryset.filter(score__gte=40, score__lt=80)
        if value == "cold":
            return queryset.filter(score__lt=40)
        if value == "none":
            return queryset.filter(score__isnull=True)
        return queryset


class JoinedFilter(admin.SimpleListFilter):
    """Customers by how recently they joined."""

    title = "joined"
    parameter_name = "joined"

    def lookups(self, request, model_admin):
        return [("30d", "Last 30 days"), ("1y", "Last year"), ("older", "More than a year ago")]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "30d":
            return queryset.filter(created__gte=now - timedelta(days=30))
        if value == "1y":
            return queryset.filter(created__gte=now - timedelta(days=365))
        if value == "older":
            return queryset.filter(created__lt=now - timedelta(days=365))
        return queryset


# --------------------------------------------------------------------------- options (written once)


class OrderOptions:
    list_display = ["number", "customer", "status", "total_display", "placed_at", "shipped_at", "is_shipped"]
    list_display_links = ["number"]
    list_filter = ["status", ShippingFilter, "customer__is_active", "customer__country", "customer"]
    date_hierarchy = "placed_at"
    search_fields = ["number", "customer__name", "customer__email"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer"]
    readonly_fields = ["placed_at"]
    fieldsets = [
        (None, {"fields": ["number", "customer", "status", "total"]}),
        ("Dates", {"fields": ["placed_at", "shipped_at"]}),
        ("Notes", {"classes": ["collapse"], "fields": ["note"]}),
    ]
    list_per_page = 100
    actions = ["mark_shipped"]

    @admin.display(description="Total", ordering="total")
    def total_display(self, obj: Order) -> str:
        return f"${obj.total:,.2f}"

    @admin.display(description="Shipped?", boolean=True)
    def is_shipped(self, obj: Order) -> bool:
        return obj.shipped_at is not None

    @admin.action(description="Mark selected orders as shipped", permissions=["change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        updated = queryset.filter(shipped_at__isnull=True).update(
            status=Order.Status.SHIPPED, shipped_at=timezone.now()
        )
        self.message_user(request, f"{updated:,} order(s) marked as shipped.", messages.SUCCESS)


class OrderInlineOptions:
    model = Order
    fields = ["number", "status", "total", "placed_at", "shipped_at"]
    readonly_fields = ["placed_at"]
    ordering = ["-placed_at"]
    extra = 0
    show_change_link = True


class CustomerOptions:
    list_display = ["name", "email", "phone", "city", "country", "is_active", "created"]
    list_display_links = ["name", "email"]
    list_editable = ["city", "is_active"]
    list_filter = ["country", "is_active", JoinedFilter]
    search_fields = ["name", "email", "phone"]
    readonly_fields = ["created"]
    fieldsets = [
        (None, {"fields": ["name", "email", "phone"]}),
        ("Location", {"fields": ["city", "country"]}),
        ("Status", {"fields": ["is_active", "created"]}),
    ]
    list_per_page = 100
    actions = ["deactivate"]

    @admin.action(description="Deactivate selected customers", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        updated = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"{updated:,} customer(s) deactivated.", messages.SUCCESS)


class LeadOptions:
    list_display = ["name", "email", "phone", "status", "source", "score", "customer", "created"]
    list_display_links = ["name"]
    list_filter = ["status", "source", ScoreBandFilter, "customer"]
    search_fields = ["name", "email", "phone"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["created"]
    fieldsets = [
        (None, {"fields": ["name", "email", "phone", "customer"]}),
        ("Pipeline", {"fields": ["status", "source", "score", "created"]}),
        ("Notes", {"classes": ["collapse"], "fields": ["notes"]}),
    ]
    list_per_page = 100
    actions = ["mark_contacted"]

    @admin.action(description="Mark selected leads as contacted", permissions=["change"])
    def mark_contacted(self, request: HttpRequest, queryset: QuerySet[Lead]) -> None:
        updated = queryset.filter(status=Lead.Status.NEW).update(status=Lead.Status.CONTACTED)
        self.message_user(request, f"{updated:,} lead(s) marked as contacted.", messages.SUCCESS)


class LeadNoteOptions(LeadOptions):
    """Leads found by the words of their notes: PostgreSQL full-text search (``@``), not ``icontains``."""

    search_fields = ["@notes"]


class AuditEventOptions:
    """A table partitioned by month: a date drill-down or range on ``created`` reads only its months."""

    list_display = ["created", "actor", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["actor", "object_repr"]
    date_hierarchy = "created"
    list_per_page = 100


# --------------------------------------------------------------------------- fastadmin (/admin/)


class OrderInline(OrderInlineOptions, fastadmin.TabularInline):
    pass


@fastadmin.register(Customer, site=fastadmin.site)
class CustomerAdmin(CustomerOptions, fastadmin.ModelAdmin):
    inlines = [OrderInline]
    search_namespace_help = True


@fastadmin.register(Lead, site=fastadmin.site)
class LeadAdmin(LeadOptions, fastadmin.ModelAdmin):
    pass


@fastadmin.register(LeadNote, site=fastadmin.site)
class LeadNoteAdmin(LeadNoteOptions, fastadmin.ModelAdmin):
    pass


@fastadmin.register(Order, site=fastadmin.site)
class OrderAdmin(OrderOptions, fastadmin.ModelAdmin):
    # One UPDATE per chunk; over BACKGROUND_ACTION_THRESHOLD rows it runs as a job (fastadmin.jobs).
    actions = [*OrderOptions.actions, fastadmin.update_action("Mark as delivered", status="delivered")]


@fastadmin.register(AuditEvent, site=fastadmin.site)
class AuditEventAdmin(AuditEventOptions, fastadmin.ModelAdmin):
    pass


# --------------------------------------------------------------------------- stock admin (/stock-admin/)


class StockOrderInline(OrderInlineOptions, admin.TabularInline):
    pass


@admin.register(Customer, site=stock_site)
class StockCustomerAdmin(CustomerOptions, admin.ModelAdmin):
    inlines = [StockOrderInline]


@admin.register(Lead, site=stock_site)
class StockLeadAdmin(LeadOptions, admin.ModelAdmin):
    pass


@admin.register(LeadNote, site=stock_site)
class StockLeadNoteAdmin(LeadNoteOptions, admin.ModelAdmin):
    pass


@admin.register(Order, site=stock_site)
class StockOrderAdmin(OrderOptions, admin.ModelAdmin):
    pass


@admin.register(AuditEvent, site=stock_site)
class StockAuditEventAdmin(AuditEventOptions, admin.ModelAdmin):
    pass


# --------------------------------------------------------------------------- tuned stock (/tuned-admin/)


@admin.register(Customer, site=tuned_site)
class TunedCustomerAdmin(CustomerOptions, TunedModelAdmin):
    inlines = [StockOrderInline]


@admin.register(Lead, site=tuned_site)
class TunedLeadAdmin(LeadOptions, TunedModelAdmin):
    pass


@admin.register(LeadNote, site=tuned_site)
class TunedLeadNoteAdmin(LeadNoteOptions, TunedModelAdmin):
    pass


@admin.register(Order, site=tuned_site)
class TunedOrderAdmin(OrderOptions, TunedModelAdmin):
    pass
