"""The compiled result-list renderer (fastadmin.rendering) produces stock ``result_list``'s HTML.

Each case renders Django's own ``admin/change_list_results.html`` for one ChangeList (the one the
changelist view built) from stock ``result_list(cl)``, and its compiled form (its loops as tags,
:func:`fastadmin.rendering.compiled_results_template`) from
:func:`fastadmin.rendering.result_list_context`; the two must be the same string (and equal as
parsed HTML, which names the first differing element when they are not). The page itself must
contain that table, i.e. the view rendered it through the compiled renderer.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid

import django
import pytest
from django import forms
from django.contrib.admin.templatetags.admin_list import ResultList
from django.contrib.admin.templatetags.admin_list import result_list as stock_result_list
from django.forms.renderers import get_default_renderer
from django.template import Context, engines
from django.test import override_settings
from django.test.html import parse_html
from django.utils import dateformat, formats, timezone, translation
from django.utils.safestring import mark_safe
from shop.models import Customer, Lead, Order

from fastadmin.rendering import SUPPORTED_DJANGO, compiled_results_template, renders_template, result_list_context
from fastadmin.rendering.dates import datetime_formatter
from fastadmin.rendering.widgets import InputRenderer, input_html, select_html
from tests.renderapp.models import Specimen
from tests.testapp.models import Category, Gadget

SETTINGS_CASES = {
    "en-utc": {"LANGUAGE_CODE": "en-us", "TIME_ZONE": "UTC", "USE_THOUSAND_SEPARATOR": False},
    "en-thousands": {"LANGUAGE_CODE": "en-us", "TIME_ZONE": "UTC", "USE_THOUSAND_SEPARATOR": True},
    "de-berlin": {"LANGUAGE_CODE": "de", "TIME_ZONE": "Europe/Berlin", "USE_THOUSAND_SEPARATOR": True},
    "fr-newyork": {"LANGUAGE_CODE": "fr", "TIME_ZONE": "America/New_York", "USE_THOUSAND_SEPARATOR": False},
    "de-ch-kolkata": {"LANGUAGE_CODE": "de-ch", "TIME_ZONE": "Asia/Kolkata", "USE_THOUSAND_SEPARATOR": True},
}

AWARE = datetime.datetime(2024, 3, 31, 0, 30, 15, tzinfo=datetime.UTC)  # another day in New York and Kolkata


def _results_template():
    return engines["django"].engine.get_template("admin/change_list_results.html")


def assert_same_table(response) -> str:
    """The stock and compiled tables of ``response``'s ChangeList are identical; returns the table."""
    assert response.status_code == 200, response.content[:500]
    cl = response.context["cl"]
    template = _results_template()
    if django.VERSION[:2] not in SUPPORTED_DJANGO:
        pytest.skip(f"the compiled rows reproduce Django {SUPPORTED_DJANGO}; this Django renders stock's rows")
    assert renders_template(template)
    # Rendered in the test's settings, as the view was (the same language, time zone and formats).
    stock = template.render(Context(stock_result_list(cl)))
    compiled = compiled_results_template(template)
    assert compiled is not template, "Django's template has loops the compiled one does not know"
    fast = compiled.render(Context(result_list_context(cl)))
    assert cl.result_list, "the case shows no rows: it would prove nothing"
    assert parse_html(fast) == parse_html(stock)
    assert fast == stock
    assert fast.strip() in response.content.decode()
    return fast


@pytest.fixture
def specimens(db):
    parent = Specimen.objects.create(name="Parent & <child>", big=5)
    rows = [
        Specimen(name="plain", grade="a", level=1, text="some text", email="a@example.com",
                 url="https://example.com/?a=1&b=2", slug="slug", count=1234567, big=9_876_543_210, small=7,
                 ratio=12345.678, amount=decimal.Decimal("1234567.125"), flag=True, maybe=True,
                 day=datetime.date(2024, 2, 29), moment=AWARE, clock=datetime.time(23, 59, 1),
                 span=datetime.timedelta(days=2, seconds=5), data={"k": ["ü", 1]}, upload="docs/file name.pdf",
                 ip="10.0.0.1", parent=parent),
        Specimen(name="   ", grade="", level=None, text="   ", count=None, ghost_id=987654, ratio=None, amount=None,
                 flag=False, maybe=None, day=None, moment=None, clock=None, data=None, ip=None, parent=None),
        Specimen(name="<script>alert(1)</script>", grade="b", level=2, count=0, big=-12345, ratio=-0.5,
                 amount=decimal.Decimal("-0.001"), flag=True, maybe=False, url="javascript:alert(1)",
                 day=datetime.date(1999, 12, 31), moment=AWARE + datetime.timedelta(hours=5, minutes=1),
                 clock=datetime.time(0, 0), span=datetime.timedelta(0), uid=uuid.UUID(int=7), data=[],
                 text="it's \"quoted\"", parent=parent),
        # Padded text: 5.2 shows it as it is, 6.0 strips it (display_for_value).
        Specimen(name="  padded  ", grade="a", level=3, text="  padded text  ", flag=False, parent=parent),
    ]
    return [parent, *Specimen.objects.bulk_create(rows)]


@pytest.fixture
def shop(db):
    customers = Customer.objects.bulk_create([
        Customer(name="Ann O'Neil", email="ann@example.com", country="DE", city="Köln", is_active=True,
                 created=AWARE),
        Customer(name="Bob <b>", email="bob@example.com", country="FR", phone="", is_active=False,
                 created=AWARE - datetime.timedelta(days=400)),
    ])
    Order.objects.bulk_create([
        Order(customer=customers[i % 2], number=f"N-{i:04d}", status=["paid", "shipped", "pending"][i % 3],
              total=decimal.Decimal(i * 1234) + decimal.Decimal("0.5"),
              placed_at=AWARE - datetime.timedelta(hours=7 * i),
              shipped_at=None if i % 2 else AWARE)
        for i in range(12)
    ])
    Lead.objects.bulk_create([
        Lead(name=f"Lead {i}", email=f"l{i}@example.com", phone="" if i % 2 else "+49 30 1234", status="won",
             source="ads", score=None if i % 3 == 0 else i * 1001, customer=customers[0] if i % 2 else None,
             created=AWARE + datetime.timedelta(minutes=i))
        for i in range(9)
    ])


@pytest.mark.parametrize("case", SETTINGS_CASES)
@pytest.mark.parametrize("url", [
    "/admin/renderapp/specimen/",
    "/admin/renderapp/specimen/?o=-16.2",  # sorted by moment: sorted header classes
    "/admin/renderapp/specimen/?flag__exact=1",  # preserved filters in the row links
    "/admin/renderapp/specimen/?_popup=1&_to_field=id",  # popup rows: data-popup-opener
])
def test_specimen_every_field_type(admin_client, specimens, case, url):
    with override_settings(**SETTINGS_CASES[case]):
        table = assert_same_table(admin_client.get(url))
    assert 'class="field-moment nowrap"' in table
    if "flag__exact" not in url:  # the row holding them is unflagged
        assert '<td class="field-ghost">-</td>' in table  # a dangling reference: the empty value, no nowrap
        assert '<td class="field-missing_link">-</td>' in table  # a property raising DoesNotExist
    assert "icon-yes.svg" in table


@pytest.mark.parametrize("case", ["en-thousands", "de-berlin", "fr-newyork"])
@pytest.mark.parametrize("path", ["shop/order/", "shop/order/?status__exact=paid&o=4", "shop/customer/",
                                  "shop/lead/", "shop/lead/?q=Lead"])
def test_example_project_models(admin_client, shop, case, path):
    with override_settings(**SETTINGS_CASES[case]):
        assert_same_table(admin_client.get(f"/admin/{path}"))


@pytest.mark.parametrize("case", ["en-utc", "de-berlin"])
@pytest.mark.parametrize("path", ["testapp/item/", "testapp/category/", "testapp/gadget/"])
def test_test_app_models(admin_client, items, case, path):
    Gadget.objects.create(name="g & g", status="won", city="Zürich", price=decimal.Decimal("1234.5"),
                          category=Category.objects.first())
    with override_settings(**SETTINGS_CASES[case]):
        table = assert_same_table(admin_client.get(f"/admin/{path}"))
    if path != "testapp/item/":  # list_editable: the formset's widgets in the cells
        assert "<input" in table and "form-0-" in table


def test_list_editable_with_errors(admin_client, items):
    """A list_editable POST with errors re-renders the rows with the forms' errors in their cells."""
    gadgets = [Gadget.objects.create(name=f"g{i}", status="new", price=i) for i in range(3)]
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3", "_save": "Save"}
    for i, gadget in enumerate(gadgets):
        data.update({f"form-{i}-id": gadget.pk, f"form-{i}-status": "won", f"form-{i}-city": "X",
                     f"form-{i}-price": "not a number" if i == 1 else "5"})
    with override_settings(**SETTINGS_CASES["de-berlin"]):
        response = admin_client.post("/admin/testapp/gadget/", data)
        table = assert_same_table(response)
    assert "errorlist" in table


def test_project_override_keeps_its_template(admin_client, specimens, tmp_path, settings):
    """A project's own change_list_results.html is rendered with stock's context, item by item."""
    override = tmp_path / "admin" / "renderapp" / "specimen"
    override.mkdir(parents=True)
    (override / "change_list_results.html").write_text(
        '<ol id="custom">{% for result in results %}<li>{{ result|length }}:'
        "{% for item in result %}[{{ item }}]{% endfor %}</li>{% endfor %}</ol>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    response = admin_client.get("/admin/renderapp/specimen/")
    body = response.content.decode()
    assert response.status_code == 200
    cells = len(response.context["cl"].list_display)  # the action checkbox is one of them
    assert f"<li>{cells}:[" in body  # one item per cell, as stock's context has them
    assert '<ol id="custom">' in body


class _RowForm(forms.Form):
    price = forms.IntegerField()

    def clean(self):
        raise forms.ValidationError("Row-wide <problem> & more")


def test_compiled_results_template_prints_the_loops_as_stock(settings):
    """The row loop (a row with non-field errors gets its spanning error line; item text is
    escaped unless safe) and the hidden-field loop print what Django's own loops print."""
    settings.USE_THOUSAND_SEPARATOR = True
    template = _results_template()
    compiled = compiled_results_template(template)
    assert compiled is not template
    erring = _RowForm({"price": "3"}, prefix="form-0")
    assert erring.non_field_errors()
    results = [
        ResultList(erring, [mark_safe("<td>1</td>"), "<td>unsafe & raw</td>", 1234]),
        ResultList(None, [mark_safe("<th>two</th>")]),
        ResultList(_RowForm(prefix="form-2"), [mark_safe("<td>unbound form</td>")]),
    ]
    context = {"results": results, "result_headers": [], "num_sorted_fields": 0,
               "result_hidden_fields": [mark_safe('<input type="hidden" name="a">'), "<b>", 5678]}
    stock = template.render(Context(context))
    fast = compiled.render(Context(context))
    assert 'colspan="3"' in stock and "&lt;problem&gt;" in stock and "1,234" in stock
    assert fast == stock


def test_compiled_results_template_keeps_an_unknown_loop():
    """A template whose loops are not Django's known ones is rendered as it is."""
    engine = engines["django"].engine
    changed = engine.from_string("{% for result in results %}<tr>{{ result }}</tr>{% endfor %}")
    assert compiled_results_template(changed) is changed


@override_settings(FASTADMIN={"COMPILED_RESULT_LIST": False})
def test_setting_turns_it_off():
    from fastadmin.checks import check_settings

    assert not renders_template(_results_template())
    assert check_settings() == []
    with override_settings(FASTADMIN={"COMPILED_RESULT_LIST": "yes"}):
        assert [m.id for m in check_settings()] == ["fastadmin.E008"]


def test_timezone_conversion_is_applied(admin_client, specimens):
    """Sanity check that the non-UTC cases really convert: Kolkata shows 06:00 for 00:30 UTC."""
    with override_settings(**SETTINGS_CASES["de-ch-kolkata"]), timezone.override("Asia/Kolkata"):
        table = assert_same_table(admin_client.get("/admin/renderapp/specimen/"))
    assert "06:00" in table


@pytest.mark.parametrize("language", ["en-us", "de", "fr", "ja", "ar"])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_compiled_datetime_format_matches_django(language, zone):
    """Every format character, on datetimes across DST changes, midnight and noon, leap days."""
    every_char = r"a A b c d D e E f F g G h H i I j l L m M n N o O P r s S t T u U w W y Y z Z \Y\e\s: jS"
    start = datetime.datetime(2023, 12, 31, 22, 0, tzinfo=datetime.UTC)
    values = [start + datetime.timedelta(hours=h * 37, minutes=h * 13 % 60, microseconds=h) for h in range(200)]
    values += [datetime.datetime(2024, 2, 29, 0, 0, tzinfo=datetime.UTC),
               datetime.datetime(2024, 3, 10, 12, 0, tzinfo=datetime.UTC),
               datetime.datetime(2024, 11, 3, 5, 30, tzinfo=datetime.UTC), datetime.datetime(2024, 5, 1, 12, 0)]
    with translation.override(language), timezone.override(zone), \
            override_settings(DATETIME_FORMAT=every_char, USE_I18N=True):
        for format_type in ("DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"):
            compiled = datetime_formatter(format_type)
            for value in values:
                expected = dateformat.format(timezone.template_localtime(value), formats.get_format(format_type))
                assert compiled(value) == expected, (value, format_type)
        compiled = datetime_formatter()
        assert [compiled(v) for v in values] == [formats.localize(timezone.template_localtime(v)) for v in values]


WIDGET_VALUES = [None, "", "plain", 'quo"te & <tag>', mark_safe("<b>safe</b>"), 0, 12345, decimal.Decimal("1234.5"),
                 True, False, ("a", 1), datetime.date(2024, 2, 29), AWARE, datetime.time(7, 5)]


@pytest.mark.parametrize("case", ["en-thousands", "de-berlin"])
def test_input_renderer_matches_the_widget_templates(case):
    """Every input widget, value and attribute kind: the renderer's HTML is the templates' HTML."""
    inner = get_default_renderer()
    fast = InputRenderer(inner)
    widgets = [forms.TextInput(), forms.NumberInput(), forms.EmailInput(), forms.URLInput(), forms.HiddenInput(),
               forms.CheckboxInput(), forms.DateInput(), forms.DateTimeInput(), forms.TimeInput(), forms.PasswordInput(
                   render_value=True), forms.TextInput(attrs={"class": "vTextField", "maxlength": 20,
                                                             "required": True, "disabled": False, "data-x": 'a"b'})]
    localized = forms.NumberInput()
    localized.is_localized = True
    widgets.append(localized)
    with override_settings(**SETTINGS_CASES[case]), translation.override(SETTINGS_CASES[case]["LANGUAGE_CODE"]):
        for widget in widgets:
            for value in WIDGET_VALUES:
                attrs = {"id": "id_form-0-x", "aria-invalid": True}
                expected = widget.render("form-0-x", value, attrs, renderer=inner)
                assert widget.render("form-0-x", value, attrs, renderer=fast) == expected, (widget, value)
    if django.VERSION[:2] in SUPPORTED_DJANGO:  # another version's templates are rendered by themselves
        assert fast._compiled.get("django/forms/widgets/text.html") is input_html


class _OwnOption(forms.Select):
    option_template_name = "django/forms/widgets/radio_option.html"


SELECT_CHOICES = [
    ("", "---------"), ("a", "Plain"), (1234, 5678), ("q", 'quo"te & <tag>'), ("s", mark_safe("<b>safe</b>")),
    ("Group <1>", [("g1", "In group"), (decimal.Decimal("1.5"), datetime.date(2024, 2, 29))]),
    (None, "None value"), (True, translation.gettext_lazy("Yes")),
]


@pytest.mark.parametrize("case", ["en-thousands", "de-berlin"])
def test_input_renderer_matches_the_select_templates(case):
    """Select widgets (optgroups, selected options, localized and escaped labels, multiple) are the
    templates' HTML; an option with its own template is rendered by the templates."""
    inner = get_default_renderer()
    fast = InputRenderer(inner)
    widgets = [forms.Select(choices=SELECT_CHOICES), forms.SelectMultiple(choices=SELECT_CHOICES),
               forms.Select(choices=SELECT_CHOICES, attrs={"class": "c", "data-x": 'a"b', "disabled": False}),
               _OwnOption(choices=SELECT_CHOICES)]
    cases = [(w, v) for w in widgets for v in [None, "", "a", 1234, ["a", "g1"], "1.5", True, "unknown"]]
    cases += [(forms.NullBooleanSelect(), v) for v in [None, True, False, "2"]]
    with override_settings(**SETTINGS_CASES[case]), translation.override(SETTINGS_CASES[case]["LANGUAGE_CODE"]):
        for widget, value in cases:
            expected = widget.render("action", value, {"id": "id_action"}, renderer=inner)
            assert widget.render("action", value, {"id": "id_action"}, renderer=fast) == expected, (widget, value)
        shown = forms.Select(choices=SELECT_CHOICES).render("x", None, renderer=fast)
    assert ("5.678" if case == "de-berlin" else "5,678") in shown  # labels are localized
    if django.VERSION[:2] in SUPPORTED_DJANGO:
        assert fast._compiled["django/forms/widgets/select.html"] is select_html
    assert select_html(_OwnOption(choices=SELECT_CHOICES).get_context("x", None, {})["widget"]) is None


def _on_both_sites(client, path: str, pattern: str) -> tuple[str, str]:
    """The part of ``path``'s changelist matching ``pattern`` on fastadmin's site and on the stock
    site (same options), in German with Berlin time and thousand separators."""
    def part(url: str) -> str:
        return re.search(pattern, client.get(url).content.decode(), re.S).group(0)

    with override_settings(**SETTINGS_CASES["de-berlin"]):
        return part(f"/admin/{path}"), part(f"/stock/{path}")


def test_list_editable_table_equals_the_stock_sites(admin_client, items):
    """The fastadmin page's result table (compiled rows and widgets) equals stock admin's page's."""
    for i in range(4):
        Gadget.objects.create(name=f"g<{i}> & co", status=["new", "won"][i % 2], city="Zürich" if i else "",
                              price=decimal.Decimal("1234.5") * i, category=Category.objects.first())

    fast, stock = _on_both_sites(admin_client, "testapp/gadget/", r'<div class="results">.*?</table>\n</div>')
    assert 'name="form-3-city"' in fast
    assert fast == stock.replace("/stock/", "/admin/")


def test_action_form_equals_the_stock_sites(admin_client, items):
    """The action bar's select (written by fastadmin's ActionForm renderer) equals stock admin's."""
    Gadget.objects.create(name="g", status="new", price=1)
    fast, stock = _on_both_sites(admin_client, "testapp/gadget/", r'<select name="action".*?</select>')
    assert "delete_selected" in fast
    # The fastadmin admin has one more action (a background job): the stock site's options, then it.
    extra = '\n  <option value="note_in_background">Note it (in the background)</option>\n'
    assert extra in fast
    assert fast.replace(extra, "") == stock


def test_list_editable_forms_share_one_translated_label_suffix(admin_client, items, monkeypatch):
    """The changelist formset translates ":" once, not once per form; forms keep what Django gives them."""
    from django.utils import translation as dj_translation

    from fastadmin.rendering.formsets import takes_label_suffix

    for i in range(5):
        Gadget.objects.create(name=f"g{i}", status="new", price=i)
    calls = []
    real = dj_translation.gettext

    def counting(message):
        calls.append(message)
        return real(message)

    monkeypatch.setattr("django.forms.forms._", counting)
    monkeypatch.setattr("fastadmin.rendering.formsets.gettext", counting)
    response = admin_client.get("/admin/testapp/gadget/")
    forms_ = response.context["cl"].formset.forms
    assert len(forms_) >= 5 and {f.label_suffix for f in forms_} == {":"}
    few = calls.count(":")  # the formset's once, and the page's other forms (management, actions)
    for i in range(10):
        Gadget.objects.create(name=f"more{i}", status="new", price=i)
    calls.clear()
    response = admin_client.get("/admin/testapp/gadget/")
    assert len(response.context["cl"].formset.forms) >= 15
    assert calls.count(":") == few < 5  # not one more per row

    class Closed(forms.Form):
        def __init__(self, data=None, prefix=None):
            super().__init__(data, prefix=prefix)

    assert takes_label_suffix(forms.Form) and not takes_label_suffix(Closed)
