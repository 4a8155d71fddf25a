"""The sidebar's links: ChangeList.get_query_string gives stock's string with each pair encoded once
per page, and a filter's choices print as the template loop they replace."""

import pytest
from django.contrib.admin.views.main import ChangeList as StockChangeList
from django.template import Context, Template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from fastadmin.query_strings import QueryStrings

PARAMS = [
    {},
    {"status__exact": ["shipped"]},
    {"status__exact": ["shipped"], "q": ["smith & co/ä"], "o": ["2.-1"], "customer__id__in": ["1,2"]},
    {"tags": ["a", "b c", "ü"], "empty": [], "blank": [""], "a+b": ["x=y&z"]},
]
NEW = [
    None,
    {},
    {"status__exact": "paid"},
    {"status__exact": None, "o": "3"},
    {"q": "new term", "p": 2, "ids": [1, 2], "raw": b"by\\xfftes"},
    {"tags": ["z"], "score__gte": 10, "score__lt": None},
    {"customer__id__exact": 12345678901234567890, "active": True, "off": False, "n": -3, "zero": 0},
]
REMOVE = [None, [], ["status__"], ["tags", "q"], ["nothing"]]


class Stub:
    """Stock's get_query_string reads only ``filter_params``."""

    def __init__(self, params):
        self.filter_params = params


@pytest.mark.parametrize("params", PARAMS, ids=str)
def test_same_string_as_stock(params):
    strings = QueryStrings(params)
    for new in NEW:
        for remove in REMOVE:
            expected = StockChangeList.get_query_string(Stub(params), dict(new) if new else new, remove)
            assert strings.build(new, remove) == expected, (new, remove)
            assert strings.build(new, remove) == expected  # from the memo the second time


def test_the_parameters_are_not_changed():
    params = {"status__exact": ["shipped"], "q": ["x"]}
    QueryStrings(params).build({"status__exact": None, "o": "1"}, ["q"])
    assert params == {"status__exact": ["shipped"], "q": ["x"]}


LOOP = Template(
    "  {% for choice in choices %}\n"
    '    <li{% if choice.selected %} class="selected"{% endif %}><a href="{{ choice.query_string|iriencode }}">'
    "{{ choice.display }}</a></li>\n"
    "  {% endfor %}\n"
)
TAG = Template("{% load fastadmin_list %}  {% fastadmin_filter_choices choices %}\n")
CHOICES = [
    {"selected": True, "query_string": "?", "display": gettext_lazy("All")},
    {"selected": False, "query_string": "?q=a+b&tag=%C3%BC&x=<'\">", "display": "Ann & <Bob> 'O\"Neil'"},
    {"selected": False, "query_string": "?name=Zoë ünïcode", "display": mark_safe("<b>safe</b>")},
    {"selected": True, "query_string": "?n=1", "display": 1234567},
    {"query_string": "?other=1", "display": "no selected key"},
]


@pytest.mark.parametrize("settings_case", [{"USE_THOUSAND_SEPARATOR": False}, {"USE_THOUSAND_SEPARATOR": True}])
@pytest.mark.parametrize("autoescape", [True, False])
def test_filter_choices_print_as_the_template_loop(settings, settings_case, autoescape):
    for key, value in settings_case.items():
        setattr(settings, key, value)
    for choices in ([], CHOICES[:1], CHOICES):
        context = {"choices": choices}
        expected = LOOP.render(Context(context, autoescape=autoescape))
        assert TAG.render(Context(context, autoescape=autoescape)) == expected


@pytest.mark.parametrize("case", [{"LANGUAGE_CODE": "en-us"}, {"LANGUAGE_CODE": "de", "USE_THOUSAND_SEPARATOR": True}])
def test_djangos_filter_template_and_fastadmins_copy_print_the_same(settings, case):
    """fastadmin/filter.html replaces Django's own admin/filter.html (never a project's override)."""
    from django.template.loader import get_template

    from fastadmin.rendering import compiled_filter_template

    for key, value in case.items():
        setattr(settings, key, value)
    assert compiled_filter_template("admin/filter.html") == "fastadmin/filter.html"
    assert compiled_filter_template("admin/my_filter.html") == "admin/my_filter.html"
    for choices in ([], CHOICES):
        context = {"title": "status & <state>", "choices": choices, "spec": None}
        stock = get_template("admin/filter.html").render(context)
        assert get_template("fastadmin/filter.html").render(context) == stock


def test_a_projects_filter_template_is_kept(settings, tmp_path):
    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "filter.html").write_text("<p>the project's own filter</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    from fastadmin.rendering import compiled_filter_template

    assert compiled_filter_template("admin/filter.html") == "admin/filter.html"
