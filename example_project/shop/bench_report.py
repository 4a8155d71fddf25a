"""The benchmark report as a text table and a JSON file (see :mod:`shop.benchmark`)."""

from __future__ import annotations

import json
from typing import Any


def format_line(m) -> str:
    cells = []
    for admin_key, med in m.admins.items():
        cells.append(f"{admin_key} {med['wall_ms']:8.1f} ms (cpu {med['cpu_ms']:.1f}, sql {med['sql_ms']:.1f}"
                     f"/{med['queries']:.0f}q, render {med['render_ms']:.1f})")
    return f"{m.case:<32} " + "  ".join(cells)


def format_table(report: dict[str, Any]) -> str:
    """The report as a plain-text table, one line per case, dataset and admin: wall, CPU, SQL (query
    count) and render ms (medians), how many times fastadmin's wall time, and the wall time over the
    same admin's at 1,000 rows."""
    header = ["case", "rows", "admin", "wall ms", "cpu ms", "sql ms (q)", "render ms", "vs fast", "vs 1k"]
    lines = []
    for entry in report["cases"]:
        for admin_key, med in entry["admins"].items():
            ratio = entry["vs_fast"].get(admin_key)
            ref = entry["vs_1k"].get(admin_key)
            lines.append([
                entry["case"], f"{entry['rows']:,}", admin_key, f"{med['wall_ms']:.1f}", f"{med['cpu_ms']:.1f}",
                f"{med['sql_ms']:.1f} ({med['queries']:.0f})", f"{med['render_ms']:.1f}",
                "-" if ratio is None else f"x{ratio:.1f}", "-" if ref is None else f"x{ref:.2f}",
            ])
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]

    def fmt(row):
        return " | ".join(
            str(cell).ljust(widths[i]) if i in (0, 2) else str(cell).rjust(widths[i]) for i, cell in enumerate(row)
        )

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *(fmt(row) for row in lines)])


def write_json(report: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
