"""The navigation sidebar's memo (fastadmin.rendering.sidebar): the same HTML as Django renders, anew
whenever one of its inputs changes, and never for a project's own sidebar templates or block."""

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import override_settings

from fastadmin.rendering import sidebar

NAV = re.compile(r'<nav class="sticky" id="nav-sidebar".*?</nav>', re.S)
ITEMS = "/admin/testapp/item/"
CATEGORIES = "/admin/testapp/category/"


def nav(response) -> str:
    assert response.status_code == 200
    found = NAV.search(response.content.decode())
    assert found, "no sidebar on the page"
    return found.group(0)


@pytest.fixture(autouse=True)
def empty_memo():
    sidebar._memo.clear()
    yield
    sidebar._memo.clear()


@pytest.mark.django_db
def test_memoized_sidebar_is_what_django_renders(admin_client):
    first = nav(admin_client.get(ITEMS))
    assert len(sidebar._memo) == 1
    again = nav(admin_client.get(ITEMS))
    assert again == first and len(sidebar._memo) == 1
    with override_settings(FASTADMIN={"COMPILED_RESULT_LIST": False}):
        stock = nav(admin_client.get(ITEMS))
    assert stock == first
    assert 'class="model-item current-model"' in first and 'href="/admin/testapp/category/"' in first


@pytest.mark.django_db
def test_each_page_marks_its_own_model(admin_client):
    items, categories = nav(admin_client.get(ITEMS)), nav(admin_client.get(CATEGORIES))
    assert len(sidebar._memo) == 2
    assert 'class="model-item current-model"' in items and 'class="model-category current-model"' not in items
    assert 'class="model-category current-model"' in categories and 'class="model-item current-model"' not in categories


@pytest.mark.django_db
def test_a_permission_change_shows_on_the_next_page(client):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_item", "view_category"]))
    client.force_login(user)
    before = nav(client.get(ITEMS))
    assert 'href="/admin/testapp/category/"' in before
    user.user_permissions.remove(Permission.objects.get(codename="view_category"))
    after = nav(client.get(ITEMS))
    assert 'href="/admin/testapp/category/"' not in after and 'href="/admin/testapp/item/"' in after


@pytest.mark.django_db
def test_the_language_is_part_of_the_key(admin_client):
    english = nav(admin_client.get(ITEMS))
    with override_settings(LANGUAGE_CODE="de"):
        german = nav(admin_client.get(ITEMS))
    assert ">Model name</th>" in english and ">Modellname</th>" in german
    assert len(sidebar._memo) == 2


def _with_templates(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    from django.conf import settings

    engine = {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}
    return override_settings(TEMPLATES=[engine])


@pytest.mark.django_db
def test_a_project_app_list_renders_every_time(admin_client, tmp_path):
    app_list = "{% for app in app_list %}<b>{{ app.name }} for {{ user.username }}</b>{% endfor %}"
    with _with_templates(tmp_path, {"admin/app_list.html": app_list}):
        first = nav(admin_client.get(ITEMS))
        User.objects.filter(username="boss").update(username="renamed")
        second = nav(admin_client.get(ITEMS))
    assert "for boss</b>" in first and "for renamed</b>" in second
    assert sidebar._memo == {}


@pytest.mark.django_db
def test_a_project_nav_sidebar_block_is_kept(admin_client, tmp_path):
    base_site = ('{% extends "admin/base.html" %}'
                 '{% block nav-sidebar %}<nav class="sticky" id="nav-sidebar">mine, {{ user.username }}</nav>'
                 "{% endblock %}")
    with _with_templates(tmp_path, {"admin/base_site.html": base_site}):
        assert nav(admin_client.get(ITEMS)) == '<nav class="sticky" id="nav-sidebar">mine, boss</nav>'
    assert sidebar._memo == {}


@pytest.mark.django_db
def test_the_memo_is_bounded(admin_client, monkeypatch):
    monkeypatch.setattr(sidebar, "MEMO_SIZE", 1)
    nav(admin_client.get(ITEMS))
    categories = nav(admin_client.get(CATEGORIES))
    [(key, html)] = sidebar._memo.items()
    assert CATEGORIES in key and categories in html
