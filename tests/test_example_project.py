"""Every admin page of the example project renders, for a superuser and within view-only rights."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from shop.models import AuditEvent, Customer, Lead, Order

import fastadmin
from fastadmin.options import FastAdminMixin

SHOP_MODELS = [Customer, Lead, Order, AuditEvent]


@pytest.fixture
def seeded(transactional_db):
    # transactional: the seed command VACUUMs, which cannot run inside a test transaction
    call_command("seed", rows=300, chunk=100, stdout=io.StringIO(), stderr=io.StringIO())
    assert Order.objects.count() == 300
    for month in (1, 6, 12):  # the partitioned log: rows in three monthly partitions
        AuditEvent.objects.create(created=datetime.datetime(2025, month, 3, tzinfo=datetime.UTC), actor="boss",
                                  action="update", object_repr=f"order {month}")


def _admin_urls(model, obj):
    info = (model._meta.app_label, model._meta.model_name)
    return [
        reverse("admin:{}_{}_changelist".format(*info)),
        reverse("admin:{}_{}_add".format(*info)),
        reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
        reverse("admin:{}_{}_history".format(*info), args=[obj.pk]),
        reverse("admin:{}_{}_delete".format(*info), args=[obj.pk]),
    ]


def test_shop_models_use_fastadmin():
    for model in SHOP_MODELS:
        assert isinstance(fastadmin.site.get_model_admin(model), FastAdminMixin)


@pytest.mark.parametrize("model", SHOP_MODELS, ids=lambda m: m.__name__)
def test_every_page_renders_for_superuser(admin_client, seeded, model):
    obj = model.objects.order_by("pk").first()
    for url in _admin_urls(model, obj):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    # every filter choice and column sort of the changelist renders too
    changelist = _admin_urls(model, obj)[0]
    model_admin = fastadmin.site.get_model_admin(model)
    for index in range(len(model_admin.list_display) + 1):
        for direction in ("", "-"):
            response = admin_client.get(f"{changelist}?o={direction}{index}")
            assert response.status_code == 200, (changelist, index)


def test_every_registered_model_changelist_renders(admin_client, seeded):
    for model in fastadmin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, model


@pytest.mark.parametrize("model", SHOP_MODELS, ids=lambda m: m.__name__)
def test_view_only_staff(client, seeded, model):
    user = get_user_model().objects.create_user("clerk", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename=f"view_{model._meta.model_name}"))
    client.force_login(user)
    obj = model.objects.order_by("pk").first()
    changelist, add, change, _history, delete = _admin_urls(model, obj)
    assert client.get(changelist).status_code == 200
    assert client.get(change).status_code == 200
    assert client.get(add).status_code == 403
    assert client.get(delete).status_code == 403
    assert client.post(change, {}).status_code == 403
    response = client.post(changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "index": 0})
    assert model.objects.filter(pk=obj.pk).exists()
    assert response.status_code in (200, 302, 403)


def test_the_audit_log_is_partitioned_and_drills_down_by_month(admin_client, seeded):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind, (SELECT count(*) FROM pg_partition_tree('shop_auditevent') WHERE isleaf) "
                       "FROM pg_class WHERE relname = 'shop_auditevent'")
        assert cursor.fetchone() == ("p", 49)  # 48 months + DEFAULT
    response = admin_client.get("/admin/shop/auditevent/", {"created__year": "2025", "created__month": "6"})
    assert [e.object_repr for e in response.context["cl"].result_list] == ["order 6"]
