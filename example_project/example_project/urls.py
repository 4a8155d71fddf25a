"""fastadmin at /admin/, Django's stock admin (same ModelAdmin options) at /stock-admin/.

The stock one is a separate ``AdminSite(name="stock_admin")``; see ``admin_sites.py``. A third,
``/tuned-admin/``, is stock with the usual expert tuning (``shop/tuned.py``).

Both are mounted so the two can be compared side by side and benchmarked
(``manage.py benchmark``), and to show that fastadmin coexists with ``django.contrib.admin``.
"""

from django.urls import path
from django.views.generic import RedirectView

import fastadmin

from .admin_sites import stock_site, tuned_site

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", fastadmin.site.urls),
    path("stock-admin/", stock_site.urls),
    path("tuned-admin/", tuned_site.urls),
]
