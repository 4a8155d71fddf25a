"""Background actions and jobs in one process: the request side over HTTP, the runner called directly.

The runner is the same code the Celery task calls (``fastadmin.tasks.run_job`` is one line); what
only a real worker can show (SIGKILL, resume by the sweep, cancel while running) is in
``test_jobs_celery.py``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.checks import run_checks
from django.test import Client, override_settings

from fastadmin.jobs import runner
from fastadmin.models import Job
from tests.helpers import row_pks
from tests.locking_helpers import make, open_form, post
from tests.testapp.models import Book, Chapter, Gadget, Loan, Shelf, ShelfLabel, Ticket

pytestmark = pytest.mark.django_db

GADGETS = "/admin/testapp/gadget/"
SMALL = {"BACKGROUND_ACTION_THRESHOLD": 3, "BACKGROUND_CHUNK_SIZE": 4}


def select(fields, pks, action, across=False):
    kept = [(n, v) for n, v in fields if n not in ("action", "select_across", "index", "_selected_action")]
    return [*kept, *(("_selected_action", str(pk)) for pk in pks), ("action", action), ("index", "0"),
            ("select_across", "1" if across else "0")]


def staff(name: str, *perms: str) -> Client:
    user = get_user_model().objects.create_user(name, f"{name}@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


def gadgets(n: int) -> list[Gadget]:
    return [make(Gadget, name=f"g{i:03d}", price="1.00") for i in range(n)]


def start(client: Client, path: str, action: str, pks, across: bool = True, extra: dict | None = None):
    fields = open_form(client, path, "changelist-form")
    data = select(fields, pks, action, across)
    data += list((extra or {}).items())
    return post(client, path, data)


def job_of(response) -> Job:
    assert response.status_code == 302, response.content[:500]
    job = Job.objects.get()
    assert response["Location"] == f"/admin/fastadmin/job/{job.pk}/change/"
    return job


@override_settings(FASTADMIN=SMALL)
def test_select_across_update_becomes_a_job_that_updates_every_matching_row_once(alice):
    made = gadgets(10)
    Gadget.objects.filter(pk__in=[g.pk for g in made[:3]]).update(status="won")
    path = GADGETS + "?status__exact=new"
    job = job_of(start(alice, path, "update_raise_price", [made[5].pk]))
    assert job.status == Job.QUEUED and job.total == 7
    assert job.selection["select_across"] is True and job.selection["ids"] is None  # no list of ids
    assert job.selection["query"] == "status__exact=new"
    assert Gadget.objects.filter(price=2).count() == 0  # nothing ran in the request
    assert runner.run(job.pk) == Job.DONE
    job.refresh_from_db()
    assert (job.status, job.done, job.skipped, job.errors) == (Job.DONE, 7, 0, [])
    prices = dict(Gadget.objects.values_list("status", "price").distinct())
    assert prices == {"new": Decimal("2.00"), "won": Decimal("1.00")}
    assert job.rate and job.rate > 0
    flags = list(LogEntry.objects.filter(object_id=str(job.pk)).values_list("action_flag", flat=True))
    assert sorted(flags) == [ADDITION, CHANGE]  # started, finished


@override_settings(FASTADMIN=SMALL)
def test_a_second_run_of_a_finished_job_claims_nothing(alice):
    gadgets(6)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    assert runner.run(job.pk) == Job.DONE
    assert runner.run(job.pk) == "not claimed"  # a duplicate message, or the visibility timeout's redelivery
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("2.00")}


@override_settings(FASTADMIN=SMALL)
def test_small_select_across_still_runs_in_the_request(alice):
    made = gadgets(3)  # 3 rows: not over the threshold
    response = start(alice, GADGETS, "update_raise_price", [made[0].pk])
    assert response.status_code == 302 and response["Location"] != "/admin/fastadmin/job/1/change/"
    assert not Job.objects.exists()
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("2.00")}


@override_settings(FASTADMIN={**SMALL, "STALE_SELECTION": "skip"})
def test_explicit_selection_skips_rows_changed_after_the_page_was_shown(alice):
    gadgets(8)
    fields = open_form(alice, GADGETS, "changelist-form")
    shown = row_pks(alice.get(GADGETS))[:5]
    job = job_of(post(alice, GADGETS, select(fields, shown, "update_raise_price")))
    assert job.selection["ids"] == [str(pk) for pk in shown] and job.selection["page_token"]
    Gadget.objects.filter(pk=shown[1]).update(city="Changed meanwhile")  # after the request, before the run
    assert runner.run(job.pk) == Job.DONE
    job.refresh_from_db()
    assert (job.done, job.skipped) == (4, 1)
    assert job.errors[0]["keys"] == [str(shown[1])] and "changed since the page" in job.errors[0]["message"]
    raised = set(Gadget.objects.filter(price=2).values_list("pk", flat=True))
    assert raised == set(shown) - {shown[1]}


@override_settings(FASTADMIN=SMALL)
def test_versioned_rows_are_compare_and_set_in_the_worker(alice):
    for i in range(6):
        make(Ticket, name=f"t{i}")
    fields = open_form(alice, "/admin/testapp/ticket/", "changelist-form")
    shown = row_pks(alice.get("/admin/testapp/ticket/"))[:4]
    job = job_of(post(alice, "/admin/testapp/ticket/", select(fields, shown, "update_raise_price")))
    assert runner.run(job.pk) == Job.DONE
    assert sorted(Ticket.objects.filter(pk__in=shown).values_list("version", flat=True)) == [2, 2, 2, 2]
    assert Job.objects.get().done == 4


def shelf_tree(n: int) -> list[Shelf]:
    made = Shelf.objects.bulk_create(Shelf(name=f"shelf {i:03d}") for i in range(n))
    books = Book.objects.bulk_create(Book(shelf=s, title=f"book {s.name}") for s in made)
    Chapter.objects.bulk_create(Chapter(book=b, title="ch") for b in books)
    return made


@override_settings(FASTADMIN={**SMALL, "EXACT_COUNT_THRESHOLD": 1})
def test_background_delete_cascades_and_reports_protected_rows_instead_of_failing(alice):
    made = shelf_tree(10)
    Loan.objects.create(book=Book.objects.get(shelf=made[2]), borrower="ann")  # PROTECT, two levels down
    ShelfLabel.objects.create(shelf=made[7], text="keep")  # RESTRICT
    page = start(alice, "/admin/testapp/shelf/", "delete_selected", [made[0].pk])
    assert page.status_code == 200 and b"in the background" in page.content  # the confirmation first
    assert b"fastadmin-delete-protected" in page.content  # the pre-check's sample, shown, not refusing
    response = post(alice, "/admin/testapp/shelf/", open_form_fields(page))
    job = job_of(response)
    assert runner.run(job.pk) == Job.DONE
    job.refresh_from_db()
    assert (job.status, job.done, job.skipped) == (Job.DONE, 8, 2)
    assert set(Shelf.objects.values_list("pk", flat=True)) == {made[2].pk, made[7].pk}
    assert Book.objects.count() == 2 and Chapter.objects.count() == 2  # cascaded for the deleted ones only
    keys = sorted(k for e in job.errors for k in e["keys"])
    assert keys == sorted([str(made[2].pk), str(made[7].pk)])
    assert LogEntry.objects.filter(content_type__model="shelf").count() == 8  # log_deletions per chunk


@override_settings(FASTADMIN={**SMALL, "EXACT_COUNT_THRESHOLD": 1})
def test_direct_protect_is_left_out_without_halving(alice):
    made = shelf_tree(6)
    books = list(Book.objects.order_by("pk"))
    Loan.objects.create(book=books[1], borrower="bo")
    page = start(alice, "/admin/testapp/book/", "delete_selected", [books[0].pk])
    job = job_of(post(alice, "/admin/testapp/book/", open_form_fields(page)))
    runner.run(job.pk)
    job.refresh_from_db()
    assert (job.done, job.skipped) == (5, 1)
    assert "PROTECT" in job.errors[0]["message"] and job.errors[0]["keys"] == [str(books[1].pk)]
    assert list(Book.objects.values_list("pk", flat=True)) == [books[1].pk]
    assert len(made) == Shelf.objects.count()


def open_form_fields(page):
    from example_project.stress import form_fields

    assert page.status_code == 200, page.content[:500]
    return form_fields(page.content.decode())


# ------------------------------------------------------------------ permissions, JSON, cancel, CSRF
@override_settings(FASTADMIN=SMALL)
def test_jobs_are_private_to_their_user_and_superusers_see_all(alice):
    gadgets(5)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    carol = staff("carol", "view_gadget")
    page = f"/admin/fastadmin/job/{job.pk}/change/"
    assert carol.get(page).status_code == 404
    assert carol.get(page + "?format=json").status_code == 404
    assert carol.post(f"/admin/fastadmin/job/{job.pk}/cancel/").status_code == 404
    assert list(carol.get("/admin/fastadmin/job/").context["cl"].result_list) == []
    assert list(alice.get("/admin/fastadmin/job/").context["cl"].result_list) == [job]
    boss = get_user_model().objects.create_superuser("boss2", "b2@example.com", "pw")
    other = Client()
    other.force_login(boss)
    assert other.get(page, HTTP_ACCEPT="application/json").json()["status"] == "queued"


@override_settings(FASTADMIN=SMALL)
def test_job_json_shape_and_page(alice):
    gadgets(5)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    runner.run(job.pk)
    data = alice.get(f"/admin/fastadmin/job/{job.pk}/change/?format=json").json()
    assert {"status", "done", "total", "rate", "errors"} <= set(data)
    assert (data["status"], data["done"], data["total"], data["errors"]) == ("done", 5, 5, [])
    html = alice.get(f"/admin/fastadmin/job/{job.pk}/change/").content.decode()
    assert 'id="fastadmin-job-progress"' in html and "?format=json" in html and 'src="http' not in html
    assert 'id="fastadmin-job-cancel"' not in html  # done: nothing to cancel


def test_no_change_permission_no_job():
    gadgets(5)
    viewer = staff("viewer", "view_gadget")
    response = viewer.post(GADGETS, {"action": "update_raise_price", "select_across": "1", "index": "0",
                                     "_selected_action": str(Gadget.objects.first().pk)})
    # Stock's answer to an action the user is not offered (here: none at all): the changelist again.
    assert response.status_code == 200 and response.context["action_form"] is None
    assert not Job.objects.exists()
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("1.00")}


@override_settings(FASTADMIN=SMALL)
def test_permission_withdrawn_before_the_run_fails_the_job_and_changes_nothing(alice):
    gadgets(5)
    user = get_user_model().objects.create_user("dave", "d@example.com", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_gadget", "change_gadget"]))
    dave = Client()
    dave.force_login(user)
    job = job_of(start(dave, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    user.user_permissions.remove(Permission.objects.get(codename="change_gadget"))
    assert runner.run(job.pk) == Job.FAILED
    job.refresh_from_db()
    assert job.status == Job.FAILED and "not available to this user" in job.errors[-1]["message"]
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("1.00")}


@override_settings(FASTADMIN=SMALL)
def test_cancel_needs_post_and_csrf_and_stops_the_job(alice):
    gadgets(5)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    cancel = f"/admin/fastadmin/job/{job.pk}/cancel/"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(get_user_model().objects.get(username="alice"))
    assert strict.post(cancel).status_code == 403  # no CSRF token
    assert alice.get(cancel).status_code == 405
    assert Job.objects.get().status == Job.QUEUED
    response = alice.post(cancel)
    assert response.status_code == 302
    assert Job.objects.get().status == Job.CANCELLED
    assert runner.run(job.pk) == "not claimed"
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("1.00")}
    assert alice.post(cancel, HTTP_ACCEPT="application/json").status_code == 409  # already ended


@override_settings(FASTADMIN=SMALL)
def test_cancel_between_chunks_keeps_committed_chunks(alice, monkeypatch):
    gadgets(12)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    real = runner.checkpoint

    def cancel_after_first(job, *args):
        real(job, *args)
        Job.objects.filter(pk=job.pk).update(status=Job.CANCELLED)

    monkeypatch.setattr(runner, "checkpoint", cancel_after_first)
    assert runner.run(job.pk) == "stopped: cancelled"
    assert Job.objects.get().done == 4
    assert Gadget.objects.filter(price=2).count() == 4


@override_settings(FASTADMIN={**SMALL, "JOB_HEARTBEAT_TIMEOUT_S": 30})
def test_sweep_enqueues_only_silent_jobs_once_per_timeout(alice, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    gadgets(5)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    sent = []
    monkeypatch.setattr("fastadmin.jobs.launch.enqueue", sent.append)
    assert runner.sweep() == []  # fresh heartbeat
    old = timezone.now() - timedelta(seconds=60)
    Job.objects.filter(pk=job.pk).update(status=Job.RUNNING, heartbeat=old, enqueued_at=old, runner="dead")
    assert runner.sweep() == [job.pk] and sent == [job.pk]
    assert runner.sweep() == []  # enqueued just now: not again before another timeout
    assert runner.run(job.pk) == Job.DONE  # the abandoned run is taken over


@pytest.mark.parametrize("key,value", [("BACKGROUND_ACTION_THRESHOLD", 0), ("BACKGROUND_CHUNK_SIZE", "5"),
                                       ("JOB_HEARTBEAT_TIMEOUT_S", -1), ("BACKGROUND_CHUNK_PAUSE_S", -1)])
def test_bad_job_settings_are_reported_by_system_checks(key, value):
    with override_settings(FASTADMIN={key: value}):
        ids = {m.id for m in run_checks() if key in m.msg}
    assert ids & {"fastadmin.E003", "fastadmin.E401"}


def test_background_action_runs_per_chunk_in_the_worker_even_for_a_small_selection(alice):
    made = gadgets(6)
    Gadget.objects.filter(pk=made[4].pk).update(name="warn")
    fields = open_form(alice, GADGETS, "changelist-form")
    chosen = [made[1].pk, made[4].pk, made[5].pk]
    job = job_of(post(alice, GADGETS, select(fields, chosen, "note_in_background")))
    assert job.description == "Note it (in the background)"
    assert not Gadget.objects.exclude(notes="").exists()  # nothing in the request
    assert runner.run(job.pk) == Job.DONE
    assert set(Gadget.objects.filter(notes="bg;").values_list("pk", flat=True)) == set(chosen)
    job.refresh_from_db()
    assert job.done == 3 and [e["message"] for e in job.errors] == ["A gadget called warn."]


@pytest.mark.django_db(transaction=True)  # the chunks' transactions are real ones, as in the worker
@override_settings(FASTADMIN=SMALL)
def test_chunks_grow_commit_without_flush_wait_and_still_update_each_row_once(alice, monkeypatch):
    from django.db import connection

    gadgets(40)
    job = job_of(start(alice, GADGETS, "update_raise_price", [Gadget.objects.first().pk]))
    real, seen = runner.run_chunk, []

    def spy(work, chunk):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            mode = cursor.fetchone()[0]
        result = real(work, chunk)
        seen.append((result.done, mode))
        return result

    monkeypatch.setattr(runner, "run_chunk", spy)
    assert runner.run(job.pk) == Job.DONE
    assert [done for done, _mode in seen] == [4, 8, 16, 12]  # fast chunks double (up to 10x the setting)
    assert {mode for _done, mode in seen} == {"off"}  # SET LOCAL: the chunk's transaction only
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert set(Gadget.objects.values_list("price", flat=True)) == {Decimal("2.00")}
    assert Job.objects.get().done == 40


def test_next_chunk_size_follows_the_time_budget():
    assert runner.next_size(100, 100, 0.1, 3.0) == 200
    assert runner.next_size(800, 100, 0.1, 3.0) == 1000  # capped at MAX_CHUNK_GROWTH x the setting
    assert runner.next_size(400, 100, 2.0, 3.0) == 400
    assert runner.next_size(400, 100, 5.0, 3.0) == 200
    assert runner.next_size(100, 100, 5.0, 3.0) == 100  # never below the setting
