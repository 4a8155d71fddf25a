import django_filters
from django.contrib import admin, messages
from django.db.models.expressions import RawSQL

import fastadmin

from .models import Category, Item, Note

# Stock Django admin, mounted at /stock/, to compare fastadmin with on the same data.
stock_site = admin.AdminSite(name="stock")


class SlowFilter(admin.SimpleListFilter):
    """A custom filter whose query sleeps: lets tests hit the statement timeout on purpose."""

    title = "speed"
    parameter_name = "speed"

    def lookups(self, request, model_admin):
        return [("slow", "Slow"), ("fast", "Fast")]

    def queryset(self, request, queryset):
        if self.value() == "slow":
            return queryset.filter(pk__in=RawSQL("SELECT id FROM testapp_item, pg_sleep(0.5)", []))
        if self.value() == "fast":
            return queryset.filter(rank__gte=3)
        return queryset


class ItemOptions:
    list_display = ["name", "kind", "rank", "label", "created", "category", "active", "double_rank"]
    list_filter = ["kind", "active", "category", "label", SlowFilter]
    actions = ["make_inactive"]

    @admin.display(description="rank × 2", ordering="rank")
    def double_rank(self, obj):
        return None if obj.rank is None else obj.rank * 2

    @admin.action(description="Mark inactive", permissions=["change"])
    def make_inactive(self, request, queryset):
        queryset.update(active=False)
    search_fields = ["name"]
    ordering = ["rank"]
    date_hierarchy = "created"
    list_per_page = 10


class ItemFilterSet(django_filters.FilterSet):
    """Richer filters than list_filter offers: a numeric range and a date range."""

    price = django_filters.RangeFilter()
    created = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Item
        fields = ["price", "created"]


@fastadmin.register(Item)
class ItemAdmin(ItemOptions, fastadmin.ModelAdmin):
    filterset_class = ItemFilterSet
    autocomplete_fields = ["category"]


@admin.register(Item, site=stock_site)
class StockItemAdmin(ItemOptions, admin.ModelAdmin):
    pass


class CategoryOptions:
    list_display = ["id", "name"]
    list_editable = ["name"]
    search_fields = ["name"]  # also makes Category an autocomplete target
    list_per_page = 5


fastadmin.site.register(Category, type("CategoryAdmin", (CategoryOptions, fastadmin.ModelAdmin), {}))
stock_site.register(Category, type("StockCategoryAdmin", (CategoryOptions, admin.ModelAdmin), {}))


# Registered on django.contrib.admin.site only: fastadmin.site must serve it as well.
@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["item", "text"]
    raw_id_fields = ["item"]


# ------------------------------------------------------------------ optimistic locking (test_locking_*)
from django.db.models import F  # noqa: E402

from fastadmin import update_action  # noqa: E402

from .models import Gadget, Part, SecretTicket, Ticket  # noqa: E402

#: Calls of TicketAdmin's own save_model/save_related/log_change: a project's overrides must run.
HOOK_CALLS: list[tuple[str, object]] = []


class EditableOptions:
    list_display = ["name", "status", "city", "price"]
    list_editable = ["status", "city", "price"]
    ordering = ["pk"]
    list_per_page = 100
    actions = [update_action("Mark won", status="won"), update_action("Raise price", price=F("price") + 1)]


class PartInline(fastadmin.TabularInline):
    model = Part
    extra = 0


class StockPartInline(admin.TabularInline):
    model = Part
    extra = 0


@fastadmin.action(background=True, permissions=["change"], description="Note it (in the background)")
def note_in_background(modeladmin, request, queryset):
    """A load-modify-save action: always a job (test_jobs), called once per chunk."""
    for gadget in queryset:
        gadget.notes += "bg;"
        gadget.save(update_fields=["notes"])
    if any(g.name == "warn" for g in queryset):
        modeladmin.message_user(request, "A gadget called warn.", messages.WARNING)


@fastadmin.register(Gadget)
class GadgetAdmin(EditableOptions, fastadmin.ModelAdmin):
    inlines = [PartInline]
    actions = [*EditableOptions.actions, note_in_background]


@fastadmin.register(Ticket)
class TicketAdmin(EditableOptions, fastadmin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        HOOK_CALLS.append(("save_model", obj.pk))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        HOOK_CALLS.append(("save_related", form.instance.pk))
        super().save_related(request, form, formsets, change)

    def log_change(self, request, obj, message):
        HOOK_CALLS.append(("log_change", obj.pk))
        return super().log_change(request, obj, message)


@fastadmin.register(SecretTicket)
class SecretTicketAdmin(fastadmin.ModelAdmin):
    exclude = ["memo"]
    readonly_fields = ["notes"]
    list_display = ["name", "status", "city"]
    list_editable = ["status", "city"]
    ordering = ["pk"]


@admin.register(Gadget, site=stock_site)
class StockGadgetAdmin(EditableOptions, admin.ModelAdmin):
    inlines = [StockPartInline]


@admin.register(Ticket, site=stock_site)
class StockTicketAdmin(EditableOptions, admin.ModelAdmin):
    pass


# ------------------------------------------------------------------ site-wide delete (test_delete_action)
from .models import Book, Chapter, Loan, Shelf  # noqa: E402


@fastadmin.register(Shelf)
class ShelfAdmin(fastadmin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    ordering = ["pk"]
    list_per_page = 10


fastadmin.site.register(Book)
fastadmin.site.register(Chapter)
fastadmin.site.register(Loan)


from .models import Event  # noqa: E402


@fastadmin.register(Event)
class EventAdmin(fastadmin.ModelAdmin):
    """A partitioned table: keyset pages, filters and search across partitions."""

    list_display = ["name", "kind", "created"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "created"
    ordering = ["-created"]
    list_per_page = 25
