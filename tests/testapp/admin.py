from django.contrib import admin

import fastadmin

from .models import Category, Item, Note

# Stock Django admin, mounted at /stock/, to compare fastadmin with on the same data.
stock_site = admin.AdminSite(name="stock")


class ItemOptions:
    list_display = ["name", "kind", "rank", "label", "created", "category", "active"]
    list_filter = ["kind", "active", "category", "label"]
    search_fields = ["name"]
    ordering = ["rank"]
    date_hierarchy = "created"
    list_per_page = 10


@fastadmin.register(Item)
class ItemAdmin(ItemOptions, fastadmin.ModelAdmin):
    pass


@admin.register(Item, site=stock_site)
class StockItemAdmin(ItemOptions, admin.ModelAdmin):
    pass


fastadmin.site.register(Category)
stock_site.register(Category)


# Registered on django.contrib.admin.site only: fastadmin.site must serve it as well.
@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["item", "text"]
    raw_id_fields = ["item"]


# ------------------------------------------------------------------ optimistic locking (test_locking_*)
from django.db.models import F  # noqa: E402

from fastadmin import update_action  # noqa: E402

from .models import Gadget, Part, Ticket  # noqa: E402


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


@fastadmin.register(Gadget)
class GadgetAdmin(EditableOptions, fastadmin.ModelAdmin):
    inlines = [PartInline]


@fastadmin.register(Ticket)
class TicketAdmin(EditableOptions, fastadmin.ModelAdmin):
    pass


@admin.register(Gadget, site=stock_site)
class StockGadgetAdmin(EditableOptions, admin.ModelAdmin):
    inlines = [StockPartInline]


@admin.register(Ticket, site=stock_site)
class StockTicketAdmin(EditableOptions, admin.ModelAdmin):
    pass
