"""``manage.py bench_jobs``: background actions (fastadmin.jobs) at full size, on rows it creates itself.

* **update** — ``--rows`` orders (default 1,000,000) for a benchmark customer; the fastadmin admin's
  "Mark as delivered" (``fastadmin.update_action``) posted over the changelist as a select-across of
  ``?customer__id__exact=<it>``: the request stores the selection and redirects to the job page; the
  job then runs in this process (the same ``fastadmin.jobs.runner.run`` the Celery task calls, so CPU
  time is measurable) unless a worker claims it first. Reported per round: wall and CPU seconds, rows/s,
  and the same rows set by one plain ``UPDATE`` (what a request would send, if it did not time out).
* **delete** — ``--delete`` orders (default 100,000) with 3 lines each (``CASCADE``) and an invoice
  (``PROTECT``) on every 100th: ``delete_selected`` as a select-across; invoiced orders must be
  reported as skipped, not fail the job.

Every row the benchmark creates is removed at the end; the demo's data is never touched.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from fastadmin.jobs import runner
from fastadmin.models import Job

from .models import Customer, Invoice, Order, OrderLine

EMAIL = "bench-jobs@example.invalid"
ORDERS = "/admin/shop/order/"


@dataclass
class Round:
    wall: float
    cpu: float
    done: int
    skipped: int
    errors: int
    by: str

    @property
    def rate(self) -> float:
        return self.done / self.wall if self.wall else 0.0


def bench_customer() -> Customer:
    """A fresh benchmark customer (an interrupted run's rows are removed first)."""
    for left in Customer.objects.filter(email=EMAIL):
        cleanup(left)
    return Customer.objects.create(email=EMAIL, name="Benchmark (bench_jobs)")


def make_orders(customer: Customer, n: int, lines: int = 0, invoice_every: int = 0) -> None:
    """``n`` orders (server-side ``generate_series``), their lines and invoices."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO shop_order (customer_id, number, status, total, placed_at, note) "
            "SELECT %s, 'B-' || g, 'pending', 10.00, now() - g * interval '1 second', '' "
            "FROM generate_series(1, %s) g", [customer.pk, n])
        if lines:
            cursor.execute(
                "INSERT INTO shop_orderline (order_id, product, quantity, price) "
                "SELECT o.id, 'product ' || l, l, 3.50 FROM shop_order o, generate_series(1, %s) l "
                "WHERE o.customer_id = %s", [lines, customer.pk])
        if invoice_every:
            cursor.execute(
                "INSERT INTO shop_invoice (order_id, number, issued_at) SELECT id, 'INV-' || id, now() "
                "FROM shop_order WHERE customer_id = %s AND id %% %s = 0", [customer.pk, invoice_every])
        cursor.execute("ANALYZE shop_order")
        cursor.execute("ANALYZE shop_orderline")


def cleanup(customer: Customer) -> None:
    orders = Order.objects.filter(customer=customer)
    Invoice.objects.filter(order__in=orders).delete()
    OrderLine.objects.filter(order__in=orders)._raw_delete(connection.alias)
    orders._raw_delete(connection.alias)
    customer.delete()


def admin_client() -> Client:
    user, _created = get_user_model().objects.get_or_create(username="bench-jobs", defaults={
        "is_staff": True, "is_superuser": True, "email": EMAIL})
    client = Client()
    client.force_login(user)
    return client


def start_job(client: Client, customer: Customer, action: str, confirm: bool) -> Job:
    data = {"action": action, "select_across": "1", "index": "0",
            "_selected_action": str(Order.objects.filter(customer=customer).values_list("pk", flat=True)[0])}
    if confirm:
        data["post"] = "yes"
    response = client.post(f"{ORDERS}?customer__id__exact={customer.pk}", data)
    if response.status_code != 302 or "/fastadmin/job/" not in response["Location"]:
        raise RuntimeError(f"the action did not start a job: {response.status_code} {response.content[:300]!r}")
    return Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-2]))


def timed_run(job: Job) -> Round:
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = runner.run(job.pk)
    while Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).exists():  # claimed by a worker instead
        time.sleep(0.2)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    job.refresh_from_db()
    if job.status != Job.DONE:
        raise RuntimeError(f"job #{job.pk} ended {job.status}: {job.errors[-3:]}")
    return Round(wall, cpu, job.done, job.skipped, job.error_count, "worker" if outcome == "not claimed" else "here")


def one_update(customer: Customer, status: str) -> float:
    started = time.perf_counter()
    Order.objects.filter(customer=customer).update(status=status)
    return time.perf_counter() - started


def bench_update(rows: int, repeat: int, out: Callable[[str], None]) -> list[Round]:
    customer = bench_customer()
    try:
        out(f"creating {rows:,} orders ...")
        make_orders(customer, rows)
        client = admin_client()
        rounds, plain = [], []
        for i in range(repeat):  # every round starts from "pending": created so, reset by the plain UPDATE
            r = timed_run(start_job(client, customer, "update_mark_as_delivered", confirm=False))
            expected = Order.objects.filter(customer=customer, status="delivered").count()
            if r.done != rows or expected != rows:
                raise RuntimeError(f"round {i}: job reports {r.done:,}, table has {expected:,} of {rows:,}")
            plain.append(one_update(customer, "pending"))
            rounds.append(r)
            out(f"update round {i + 1}: {r.wall:.1f}s wall, {r.cpu:.2f}s CPU, {r.rate:,.0f} rows/s (run {r.by}); "
                f"one plain UPDATE: {plain[-1]:.1f}s")
        med = statistics.median(r.wall for r in rounds)
        out(f"UPDATE {rows:,} rows as a background job: median {med:.1f}s wall, "
            f"{statistics.median(r.cpu for r in rounds):.2f}s CPU, {rows / med:,.0f} rows/s; "
            f"one plain UPDATE: median {statistics.median(plain):.1f}s "
            f"(job/plain = {med / statistics.median(plain):.2f})")
        return rounds
    finally:
        cleanup(customer)


def bench_delete(rows: int, out: Callable[[str], None]) -> Round:
    customer = bench_customer()
    try:
        out(f"creating {rows:,} orders, {3 * rows:,} lines, {rows // 100:,} invoices ...")
        make_orders(customer, rows, lines=3, invoice_every=100)
        invoiced = Invoice.objects.filter(order__customer=customer).count()
        r = timed_run(start_job(admin_client(), customer, "delete_selected", confirm=True))
        left = Order.objects.filter(customer=customer).count()
        lines = OrderLine.objects.filter(order__customer=customer).count()
        if (r.done, r.skipped, left, lines) != (rows - invoiced, invoiced, invoiced, 3 * invoiced):
            raise RuntimeError(f"delete: done {r.done}, skipped {r.skipped}, left {left}, lines {lines}")
        out(f"DELETE {rows:,} orders (+{3 * rows:,} lines by CASCADE) as a background job: {r.wall:.1f}s wall, "
            f"{r.cpu:.2f}s CPU, {r.rate:,.0f} orders/s; {r.skipped:,} protected by invoices reported "
            f"({r.errors} error entries), job done")
        return r
    finally:
        cleanup(customer)


def run(rows: int, delete: int, repeat: int, stream: TextIO) -> None:
    def out(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    if rows:
        bench_update(rows, repeat, out)
    if delete:
        bench_delete(delete, out)
