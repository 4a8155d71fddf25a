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
