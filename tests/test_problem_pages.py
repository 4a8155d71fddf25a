"""The 400 and 503 pages look like admin pages: a capitalized title, the error first, the search box."""

from __future__ import annotations

import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory
from shop.models import Customer, Lead

import fastadmin
from fastadmin.counting import EstimatedCounter

pytestmark = pytest.mark.django_db


def test_a_bad_parameter_page_has_a_title_and_the_search_box_prefilled(admin_client):
    Customer.objects.create(name="Anne", email="anne@example.com")
    response = admin_client.get("/admin/shop/customer/", {"name__regex": "(a", "q": "anne"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r"<h1>Customers: cannot be shown</h1>", html), html
    assert re.search(r'<input type="text" size="40" name="q" value="anne" id="searchbar"', html)
    assert 'action="/admin/shop/customer/"' in html and "Back to the unfiltered list" in html


def test_the_too_slow_page_shows_its_error_above_earlier_success_messages(admin_user, settings, monkeypatch):
    Lead.objects.create(name="Bo", email="bo@example.com")

    def slow_count(self, queryset):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")

    settings.FASTADMIN = {"STATEMENT_TIMEOUT_MS": 100}
    monkeypatch.setattr(EstimatedCounter, "count", slow_count)
    request = RequestFactory().get("/admin/shop/lead/")
    request.user, request.session = admin_user, SessionStore()
    request._messages = FallbackStorage(request)  # what MessageMiddleware sets (Django's own tests do this)
    messages.success(request, "The lead was changed successfully.")
    response = fastadmin.site.get_model_admin(Lead).changelist_view(request)
    assert response.status_code == 503
    html = response.content.decode()
    assert "<h1>Leads: took too long</h1>" in html
    error, notice = html.index('class="errornote"'), html.index("The lead was changed successfully.")
    assert error < notice  # the red error first, the earlier success notice after it
    assert html.count('class="messagelist"') == 1
    assert 'id="searchbar"' in html  # leads are searchable: the user can narrow the search here
