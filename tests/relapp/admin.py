import fastadmin

from .models import Guest, Place, Visit


class TenantAdmin(fastadmin.ModelAdmin):
    """Each staff user sees one tenant's rows; the filter sidebar must not show the others'."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant="a")


@fastadmin.register(Place)
class PlaceAdmin(TenantAdmin):
    list_display = ["name", "city"]
    list_filter = ["city", "visits"]


@fastadmin.register(Visit)
class VisitAdmin(TenantAdmin):
    list_display = ["note"]
    list_filter = ["place", "place__city", "guests", "tags", "tags__name"]


@fastadmin.register(Guest)
class GuestAdmin(fastadmin.ModelAdmin):
    list_display = ["name"]
    list_filter = ["visits"]
