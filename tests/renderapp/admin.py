import datetime
import decimal

from django.contrib import admin
from django.utils.html import format_html

import fastadmin

from .models import Specimen


class SpecimenOptions:
    list_display = [
        "name", "grade", "level", "text", "email", "url", "slug", "count", "big", "small", "ratio", "amount",
        "flag", "maybe", "day", "moment", "clock", "span", "uid", "data", "upload", "ip", "parent", "id",
        "shout", "has_parent", "is_big", "next_day", "__str__", "checked", "maybe_empty", "when", "price",
        "html", "nothing", "blank", "numbers", "parent__name", "ghost", "missing_link",
    ]
    list_filter = ["flag", "grade", "parent"]
    list_select_related = ["parent"]  # ghost is read per row: its dangling reference raises DoesNotExist
    search_fields = ["name"]
    list_per_page = 50
    ordering = ["id"]
    actions = ["noop"]

    @admin.action(description="Do nothing")
    def noop(self, request, queryset):
        pass

    @admin.display(boolean=True)
    def checked(self, obj):
        return obj.flag

    @admin.display(empty_value="<nothing here>")
    def maybe_empty(self, obj):
        return obj.text or None

    @admin.display(ordering="moment")
    def when(self, obj):
        return obj.moment

    def price(self, obj):
        return None if obj.amount is None else obj.amount * decimal.Decimal("1000.5")

    def html(self, obj):
        return format_html("<b>{}</b>", obj.name)

    def nothing(self, obj):
        return None

    def blank(self, obj):
        return "   "

    def numbers(self, obj):
        return [obj.big, obj.small] if obj.count else datetime.time(9, 30)


@fastadmin.register(Specimen)
class SpecimenAdmin(SpecimenOptions, fastadmin.ModelAdmin):
    pass
