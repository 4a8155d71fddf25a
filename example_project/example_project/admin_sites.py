"""The two admin sites the example project mounts.

``fastadmin.site`` keeps the stock instance name ``"admin"`` so that existing
``reverse("admin:...")`` calls keep working after the switch. Django's own ``admin.site`` has that
name too, and two sites sharing one URL namespace would send each other's links to the wrong
place (system check urls.W005). The stock comparison site is therefore a separate, plain
``AdminSite`` named ``"stock_admin"``, mounted at ``/stock-admin/``.

Users and groups are registered on both with Django's own ``UserAdmin``/``GroupAdmin``: a stock
``ModelAdmin`` on ``fastadmin.site`` simply keeps its stock behaviour.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

import fastadmin

stock_site = admin.AdminSite(name="stock_admin")
stock_site.site_header = "Django administration (stock, for comparison)"
#: Stock admin with the experts' two tunings (``shop.tuned``): the benchmark's third contestant.
tuned_site = admin.AdminSite(name="tuned_admin")
tuned_site.site_header = "Django administration (stock, tuned: reltuples count, no full count)"

for _site in (fastadmin.site, stock_site, tuned_site):
    if not _site.is_registered(User):
        _site.register(User, UserAdmin)
    if not _site.is_registered(Group):
        _site.register(Group, GroupAdmin)
