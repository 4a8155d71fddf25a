"""The index plan: the system check names each missing index per ModelAdmin, ``fastadmin_indexes
--apply`` builds them (re-runnable, rebuilding interrupted builds), ``--migration`` writes a
migration that applies."""

import importlib
import shutil
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from fastadmin.search_index import operations
from fastadmin.search_index.catalog import existing_indexes, status
from fastadmin.search_index.checks import check_index_plan
from fastadmin.search_index.plan import build_plan, normalise

import fastadmin
from tests.helpers import probe_end, unwrapped
from tests.testapp.models import Item


def fastadmin_index_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'fa\\_%%'")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def clean_indexes():
    """Indexes built by a transactional test outlive it: drop them so other tests start without."""
    yield
    with connection.cursor() as cursor:
        for name in fastadmin_index_names():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def w101(model_admin_class=None):
    messages = [m for m in check_index_plan(databases=["default"]) if m.id == "fastadmin.W101"]
    if model_admin_class is not None:
        messages = [m for m in messages if type(m.obj) is model_admin_class]
    return messages


def test_plan_for_the_test_app():
    item_admin = fastadmin.site.get_model_admin(Item)
    needs = {need.describe() for need in build_plan([item_admin]).needs}
    assert needs == {
        "trigram (upper(name)) on testapp_item",  # search_fields = ["name"]
        "prefix btree (upper(name)) on testapp_item",  # ... and its short prefixes
        "btree (rank, id) on testapp_item",  # ordering = ["rank"] and the rank column
        "btree (name, id) on testapp_item",
        "btree (kind, id) on testapp_item",
        "btree (label, id) on testapp_item",
        "btree (created, id) on testapp_item",
        "btree (active, id) on testapp_item",
    }


def test_fk_column_sorts_through_the_related_ordering_so_no_index_is_planned():
    """Like stock, sorting by ``category`` sorts by Category.Meta.ordering (its name) through the join:
    an index on category_id would not serve it, so the plan reports it instead of building one."""
    item_admin = fastadmin.site.get_model_admin(Item)
    plan = build_plan([item_admin])
    assert "btree (category_id, id) on testapp_item" not in {need.describe() for need in plan.needs}
    skipped = {(s.what, s.reason) for s in plan.skipped}
    assert ("sortable column 'category'", "sorts through a relation or a non-column ('category__name')") in skipped


def test_indexes_dropped_while_the_catalog_is_read_are_ignored(db, monkeypatch):
    """``pg_get_indexdef`` answers NULL for an index another session dropped or re-created between the
    catalog join and the read; the system checks every management command runs must not crash on it."""
    from fastadmin.search_index import catalog

    monkeypatch.setattr(catalog, "INDEXES_SQL", """
        SELECT 'gone_meanwhile', 'btree', true, false, false, ARRAY[NULL::text], ARRAY[false], ARRAY['int4_ops']
        UNION ALL
        SELECT 'half_gone', NULL, NULL, NULL, NULL, ARRAY[NULL::text, 'id'], ARRAY[false, false], ARRAY[]::text[]
        WHERE %s IS NOT NULL
    """)
    assert existing_indexes("testapp_item") == []
    assert normalise(None) is None
    messages = check_index_plan(databases=["default"])
    assert any(m.id == "fastadmin.W101" for m in messages)  # still reports what is missing


def test_plan_reads_admin_sites_through_public_api_only():
    """``site._registry`` is private: the plan goes through apps.get_models() and is_registered()."""
    source = (Path(__file__).resolve().parents[1] / "search_index").glob("*.py")
    assert not [p.name for p in source if "_registry" in p.read_text()]


def test_descending_orderings_share_one_ascending_index():
    from fastadmin.search_index.plan import btree_need

    opts = Item._meta
    down = btree_need(Item, [(opts.get_field("created"), True), (opts.pk, True)])
    kind, rank = opts.get_field("kind"), opts.get_field("rank")
    mixed = btree_need(Item, [(kind, True), (rank, False), (opts.pk, False)])
    assert down.describe() == "btree (created, id) on testapp_item"
    assert mixed.describe() == "btree (kind, rank DESC, id DESC) on testapp_item"


def test_normalise_matches_postgres_spelling():
    assert normalise('UPPER(("name")::text)') == normalise("upper((name)::text)") == "upper(name)"
    assert normalise('"category_id"') == "category_id"


@pytest.mark.django_db(transaction=True)
def test_check_fires_per_missing_index_and_stops_after_apply(clean_indexes):
    from tests.testapp.admin import ItemAdmin

    before = w101(ItemAdmin)
    texts = " ".join(m.msg for m in before)
    assert "search field 'name' needs a trigram (upper(name)) on testapp_item" in texts
    assert "sortable column 'label' needs a btree (label, id)" in texts
    assert "sortable column 'rank'" not in texts  # Item.Meta.indexes has (rank, id)
    assert all("--apply" in m.hint and "CREATE INDEX CONCURRENTLY" in m.hint for m in before)

    Item.objects.bulk_create(Item(name=f"item {i}", kind="a") for i in range(50))  # rows to analyze
    out = StringIO()
    call_command("fastadmin_indexes", "--apply", stdout=out)
    assert "[1/" in out.getvalue() and "done in" in out.getvalue()  # progress, one line per index
    assert w101() == []
    assert "fa_testapp_item_name_trgm" in fastadmin_index_names()
    # Analyzed after the build: the planner knows the indexed expressions (upper(name)) at once.
    assert "analyzing testapp_item" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'fa_testapp_item_name_trgm'")
        assert cursor.fetchone()[0] == 1

    again = StringIO()
    call_command("fastadmin_indexes", "--apply", stdout=again)  # safe to re-run
    assert "Built 0 index(es)" in again.getvalue()
    assert "MISSING" not in again.getvalue()


def planned_haystack(needle: str) -> None:
    """The index plan applied, 20,000 items (enough for PostgreSQL to prefer an index on its own)
    and one named ``needle``, analyzed."""
    from tests.conftest import analyze

    call_command("fastadmin_indexes", "--apply", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO testapp_item (name, kind, price, active)"
            " SELECT 'item ' || i, 'a', 0, true FROM generate_series(1, 20000) i"
        )
    Item.objects.create(name=needle, kind="b")
    analyze(Item)


@pytest.mark.django_db(transaction=True)
def test_the_search_query_uses_the_index_apply_built(admin_client, clean_indexes):
    planned_haystack("needle in a haystack")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/testapp/item/", {"q": "needle"})
    assert response.status_code == 200
    sql = next(s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries))  # the search probe
               if s.startswith('SELECT "testapp_item"') and s.endswith(probe_end()))
    assert 'UPPER("testapp_item"."name"::text) LIKE UPPER(\'%needle%\')' in sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on fa_testapp_item_name_trgm" in plan, plan
    assert "Seq Scan" not in plan


@pytest.mark.django_db(transaction=True)
def test_interrupted_build_is_detected_and_rebuilt(clean_indexes):
    Item.objects.bulk_create([Item(name="dup", kind="a"), Item(name="dup", kind="a")])
    # A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind, under the plan's name.
    with pytest.raises(Exception, match="could not create unique index"), connection.cursor() as cursor:
        cursor.execute(
            'CREATE UNIQUE INDEX CONCURRENTLY "fa_testapp_item_name_trgm" ON testapp_item (UPPER(name))'
        )
    invalid = [i for i in existing_indexes("testapp_item") if i.name == "fa_testapp_item_name_trgm"]
    assert invalid and not invalid[0].valid
    assert any(m.id == "fastadmin.W103" and "fa_testapp_item_name_trgm" in m.msg
               for m in check_index_plan(databases=["default"]))

    out = StringIO()
    call_command("fastadmin_indexes", "--apply", stdout=out)
    assert "dropping the INVALID index" in out.getvalue()
    rebuilt = [i for i in existing_indexes("testapp_item") if i.name == "fa_testapp_item_name_trgm"]
    assert rebuilt[0].valid and rebuilt[0].method == "gin"
    problems = [m for m in check_index_plan(databases=["default"])
                if m.id in ("fastadmin.W101", "fastadmin.W103")]
    assert problems == []


def test_extension_permission_error_is_clear(db):
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION IF EXISTS pg_trgm CASCADE")  # rolled back with the test
        cursor.execute("CREATE ROLE fa_no_create NOLOGIN")
        database = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"REVOKE CREATE ON DATABASE {database} FROM PUBLIC")
        cursor.execute("SET ROLE fa_no_create")
    try:
        expected = r"may not create the pg_trgm extension.*CREATE EXTENSION pg_trgm"
        with pytest.raises(operations.PlanError, match=expected):
            with transaction.atomic():
                operations.ensure_trigram_extension()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_w102_when_pg_trgm_is_missing(db):
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION IF EXISTS pg_trgm CASCADE")  # rolled back with the test
    assert any(m.id == "fastadmin.W102" for m in check_index_plan(databases=["default"]))


@pytest.fixture
def temp_migrations(tmp_path):
    """testapp's migrations copied to a temporary package, so a generated migration can be applied."""
    package = tmp_path / "fa_tmp_testapp_migrations"
    package.mkdir()
    source = Path(importlib.import_module("tests.testapp.migrations").__file__).parent
    for migration in source.glob("*.py"):
        shutil.copy(migration, package / migration.name)
    sys.path.insert(0, str(tmp_path))
    try:
        with override_settings(MIGRATION_MODULES={"testapp": "fa_tmp_testapp_migrations"}):
            yield package
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("fa_tmp_testapp_migrations")]:
            del sys.modules[name]


@pytest.mark.django_db(transaction=True, databases="__all__")  # makemigrations reads every alias
def test_generated_migration_applies_and_reverses(temp_migrations, clean_indexes):
    out = StringIO()
    existing = sorted(p.name for p in temp_migrations.glob("0*.py"))
    call_command("fastadmin_indexes", "--migration", "testapp", stdout=out)
    (path,) = [p for p in temp_migrations.glob("0*_fastadmin_indexes.py")]
    latest = existing[-1].removesuffix(".py")
    source = path.read_text()
    assert f"('testapp', '{latest}')" in source  # depends on the app's latest migration
    assert "atomic = False" in source
    assert "TrigramExtension(" in source and "AddIndexConcurrently(" in source
    assert "SeparateDatabaseAndState" in source and "gin_trgm_ops" in source
    importlib.invalidate_caches()

    call_command("migrate", "testapp", path.stem, stdout=StringIO())
    assert "fa_testapp_item_name_trgm" in fastadmin_index_names()
    assert [s for s in status(build_plan([fastadmin.site.get_model_admin(Item)])) if s.missing] == []
    # The indexes live in the database only: makemigrations sees nothing to undo.
    call_command("makemigrations", "testapp", "--check", "--dry-run", stdout=StringIO())

    call_command("migrate", "testapp", latest, stdout=StringIO())
    assert "fa_testapp_item_name_trgm" not in fastadmin_index_names()


def test_non_postgresql_database_is_refused_clearly(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="not PostgreSQL"):
        call_command("fastadmin_indexes", stdout=StringIO())


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_a_short_prefix_is_served_by_the_planned_pattern_index(admin_client, clean_indexes):
    """A word too short for trigrams is matched as a prefix (``UPPER(col) LIKE UPPER('zq%')``); the
    planned ``text_pattern_ops`` btree answers it with a range scan, so no match costs no table walk."""
    planned_haystack("needle")
    assert "fa_testapp_item_name_prefix" in fastadmin_index_names()
    for term, found in (("zq", 0), ("ne", 1)):
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get("/admin/testapp/item/", {"q": term})
        assert response.status_code == 200 and "at the start of name" in response.content.decode()
        assert len(response.context["cl"].result_list) == found
        searched = [s for s in map(unwrapped, (q["sql"] for q in captured.captured_queries))
                    if s.startswith('SELECT "testapp_item"') and f"LIKE UPPER('{term}%')" in s]
        assert searched, [q["sql"] for q in captured.captured_queries]
        plan = _explain(searched[0])
        assert "Index Scan using fa_testapp_item_name_prefix" in plan or \
            "Bitmap Index Scan on fa_testapp_item_name_prefix" in plan, plan
        assert "~>=~ 'ZQ'" in plan or "~>=~ 'NE'" in plan  # a range of the index, not a full read
        assert "Seq Scan" not in plan, plan


def test_a_pattern_index_serves_prefixes_and_equality_only():
    from fastadmin.search_index.catalog import ExistingIndex, serves
    from fastadmin.search_index.plan import Key, btree_need, pattern_need, upper_btree_need

    name = Item._meta.get_field("name")
    pattern = ExistingIndex("p", "btree", True, False, False, (Key("upper(name)"),), ("text_pattern_ops",))
    plain = ExistingIndex("u", "btree", True, False, False, (Key("upper(name)"),), ("text_ops",))
    sort = ExistingIndex("s", "btree", True, False, False, (Key("name"), Key("id")), ("text_pattern_ops", "int8_ops"))
    assert serves(pattern, pattern_need(Item, name)) and serves(pattern, upper_btree_need(Item, name))
    assert not serves(plain, pattern_need(Item, name))  # LIKE 'x%' needs C ordering
    assert not serves(sort, btree_need(Item, [(name, False), (Item._meta.pk, False)]))  # no ORDER BY
