from django.urls import path

import fastadmin

from .testapp.admin import stock_site

urlpatterns = [
    path("admin/", fastadmin.site.urls),
    path("stock/", stock_site.urls),
]
