"""Driving the admin like two people in two browsers: GET a form, keep it, POST it later."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client
from example_project.stress import form_fields, replace

from tests.testapp.models import Category, Gadget, Ticket

MODELS = [Gadget, Ticket]


def person(name: str) -> Client:
    user = get_user_model().objects.create_superuser(name, f"{name}@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def make(model, **kwargs):
    defaults = {"name": "thing", "status": "new", "city": "Oslo", "price": "1.00", "notes": ""}
    return model.objects.create(**{**defaults, **kwargs})


def url(obj, view: str = "change", site: str = "admin") -> str:
    return f"/{site}/testapp/{obj._meta.model_name}/{obj.pk}/{view}/"


def open_form(client: Client, path: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """GET ``path`` and return its form's fields, as a browser would post them untouched."""
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return form_fields(response.content.decode(), form_id)


def post(client: Client, path: str, fields: list[tuple[str, str]], **changes: str):
    data: dict[str, list[str]] = {}
    for name, value in replace(fields, **changes):
        data.setdefault(name, []).append(value)
    return client.post(path, data)


def category(name: str) -> Category:
    return Category.objects.create(name=name)


def inline_prefix(fields: list[tuple[str, str]]) -> str:
    """The management-form prefix of the (first) inline formset in a change form's fields."""
    return next(n for n, _ in fields if n.endswith("-0-label")).rsplit("-0-", 1)[0]
