"""Hypothesis strategies for the fuzz suite (tests/test_fuzz.py): an admin's own vocabulary (its
list_filter lookups, date_hierarchy parts, sortable columns, search namespaces, actions, editable
fields, every relation of its model) mixed with hostile values."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from django.contrib.admin import SimpleListFilter
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from hypothesis import strategies as st

HUGE = ["99999999999999999999", "-9223372036854775809", "9223372036854775807", "2147483648", "-1", "0",
        "1e400", "NaN", "-inf", "١٢", "0x10", "1_000", " 7 ", "+5"]
CONTROL = ["\x00", "a\x00b", "\x01\x1f", "\x7f", "\u202e", "\ufeff", "𝔘𝔫𝔦", "e\u0301", "ß", "İ", "\u2028",
           "", " ", "%", "%00", "\\", "'", '"', "<script>", ",", ",,", "a,b"]
BAD_REGEX = ["[]", "\\", "{0}", "+5", "(", "a)", "a{2,1}", "(?<", "*", "[[:nosuch:]]", "(?P<x>a)"]
DATES = ["2024-02-30", "0000-00-00", "9999-12-31 23:59:59", "-1-01-01", "2024-13-01", "T", "2024-01-01T25:00",
         "10000-01-01", "1-01-01", "2024-01-01", "1970-01-01 00:00:00+14:00", "2024-W01"]
LOOKUP_SUFFIXES = ["", "__exact", "__iexact", "__in", "__isnull", "__gte", "__lt", "__regex", "__iregex",
                   "__contains", "__startswith", "__year", "__month", "__day", "__id__exact", "__pk", "__range"]
CHANGELIST_PARAMS = [ORDER_VAR, SEARCH_VAR, PAGE_VAR, ALL_VAR, ERROR_FLAG, "_facets", "cursor", "seek", "_count",
                     "_to_field", "_popup", "_changelist_filters", "nosuch", "q__regex"]
HOSTILE_IDS = ["0", "-1", "99999999999999999999", "abc", "1.5", "_5F", "_00", "%00", " ", "1e3", "١", "../1",
               "9223372036854775808", "_", "__", "\u202e1"]

hostile_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
hostile_value = st.one_of(
    st.sampled_from(HUGE + CONTROL + BAD_REGEX + DATES),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    hostile_text,
)


@dataclass
class Vocabulary:
    """What one admin's changelist, autocomplete and forms understand."""

    app_label: str
    model_name: str
    lookups: list[str]
    filter_values: list[str]
    date_hierarchy: str | None
    orderings: list[str]
    namespaces: list[str]
    relation_names: list[str]
    actions: list[str]
    editable: list[str]
    pks: list[str]
    cursors: list[str] = field(default_factory=list)


def vocabulary(model_admin, request, pks: list[str]) -> Vocabulary:
    opts = model_admin.model._meta
    lookups, values = [], []
    for item in model_admin.get_list_filter(request):
        if isinstance(item, type) and issubclass(item, SimpleListFilter):
            lookups.append(item.parameter_name)
            choices = item.lookups(item, request, model_admin) or []
            values += [str(v) for v, _label in choices if v != "slow"]  # testapp's SlowFilter sleeps on purpose
            continue
        path = item[0] if isinstance(item, list | tuple) else item
        lookups += [path + suffix for suffix in LOOKUP_SUFFIXES]
    for f in opts.get_fields():
        if getattr(f, "concrete", False) or f.is_relation:
            lookups += [f.name + s for s in ("", "__exact", "__regex", "__in", "__isnull")]
    hierarchy = model_admin.get_date_hierarchy(request) if hasattr(model_admin, "get_date_hierarchy") else None
    hierarchy = hierarchy or model_admin.date_hierarchy
    columns = len(model_admin.get_list_display(request))
    orderings = [str(i) for i in range(-1, columns + 2)] + [f"-{i}" for i in range(columns + 1)]
    namespaces = [f.split("__")[-1].lstrip("^=@") for f in model_admin.get_search_fields(request)] + ["id", "pk"]
    relations = sorted({f.name for f in opts.get_fields(include_hidden=True)} | {f.name for f in opts.private_fields})
    actions = [*list(model_admin.get_actions(request)), "nosuch", ""]
    return Vocabulary(opts.app_label, opts.model_name, sorted(set(lookups)), values, hierarchy, orderings,
                      namespaces, relations, actions, list(model_admin.list_editable), pks)


def tampered(cursor: str) -> st.SearchStrategy[str]:
    return st.sampled_from([cursor[:-1], cursor + "x", cursor[::-1], cursor.replace(":", ":A", 1),
                            "e30:" + cursor.split(":", 1)[-1], cursor.upper()])


def cursor_values(cursors: list[str]) -> st.SearchStrategy[str]:
    if not cursors:
        return hostile_value
    real = st.sampled_from(cursors)
    return st.one_of(real, real.flatmap(tampered), st.text(alphabet=string.ascii_letters + ":-_", max_size=40))


def changelist_query(v: Vocabulary) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = list(CHANGELIST_PARAMS) + v.lookups
    if v.date_hierarchy:
        names += [f"{v.date_hierarchy}__{part}" for part in ("year", "month", "day", "gte", "lt")]
    value_for = {
        ORDER_VAR: st.one_of(st.sampled_from(v.orderings), st.lists(st.sampled_from(v.orderings), max_size=4)
                             .map(".".join), hostile_value),
        SEARCH_VAR: st.one_of(hostile_value, st.tuples(st.sampled_from(v.namespaces), hostile_value)
                              .map(lambda t: f"{t[0]}:{t[1]}"), st.sampled_from(['"', 'a"b', "^", "=x", "name:"])),
        "cursor": cursor_values(v.cursors),
        "seek": st.one_of(hostile_value, st.sampled_from(v.pks or ["1"])),
        "_facets": st.sampled_from(["1", "0", "", "x"]),
    }
    pair = st.sampled_from(names).flatmap(
        lambda name: st.tuples(st.just(name), value_for.get(name, st.one_of(hostile_value,
                                                                            st.sampled_from(v.filter_values or ["1"]),
                                                                            st.sampled_from(v.pks or ["1"]))))
    )
    return st.lists(pair, min_size=1, max_size=5)


def autocomplete_query(v: Vocabulary) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {
            "app_label": st.one_of(st.just(v.app_label), st.sampled_from(["", "nosuch", "auth", "shop", "testapp"])),
            "model_name": st.one_of(st.just(v.model_name), st.sampled_from(["", "nosuch", "customer", "item"])),
            "field_name": st.one_of(st.sampled_from(v.relation_names), hostile_value),
        },
        optional={
            "term": st.one_of(hostile_value, st.tuples(st.sampled_from(v.namespaces), hostile_value)
                              .map(lambda t: f"{t[0]}:{t[1]}")),
            "page": st.one_of(st.sampled_from([*HUGE, "last", "1", "2"]), hostile_value),
        },
    )


def object_id(v: Vocabulary) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_IDS), st.sampled_from(v.pks or ["1"]), hostile_text)


def action_post(v: Vocabulary) -> st.SearchStrategy[dict]:
    selected = st.lists(st.one_of(st.sampled_from(v.pks or ["1"]), st.sampled_from(HOSTILE_IDS)), max_size=4)
    return st.fixed_dictionaries(
        {"action": st.one_of(st.sampled_from(v.actions), hostile_value), "_selected_action": selected},
        optional={"select_across": st.sampled_from(["0", "1", "x"]), "index": st.sampled_from(["0", "1", "-1", "x"]),
                  "post": st.just("yes"), "_fa_page_token": hostile_value},
    )


def editable_post(v: Vocabulary) -> st.SearchStrategy[dict]:
    field_value = st.one_of(hostile_value, st.sampled_from(v.pks or ["1"]))
    fields = {f"form-0-{name}": field_value for name in v.editable}
    return st.fixed_dictionaries(
        {"_save": st.just("Save"), "form-TOTAL_FORMS": st.sampled_from(["1", "0", "-1", "x", "1001", *HUGE[:2]]),
         "form-INITIAL_FORMS": st.sampled_from(["1", "0", "x", "99999999999999999999"]),
         "form-0-id": object_id(v)},
        optional={**fields, "form-MAX_NUM_FORMS": hostile_value, "_fa_token": hostile_value},
    )
