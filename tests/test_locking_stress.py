"""Real concurrency: 32 editors over HTTP against a server in another process (reduced size).

Full size: ``stress_edits`` (see tests/testapp/management/commands/stress_edits.py).
"""

import pytest

from tests.stress_scenario import MODELS, inline_scenario, scenario, start_server


@pytest.mark.django_db(transaction=True)
def test_no_silent_lost_updates_with_32_concurrent_editors():
    server = start_server()
    try:
        stock = scenario(server, "stock", MODELS[0], rows=4, editors=32, rounds=2, max_delay=0.05)
        ours = [
            scenario(server, "admin", model, rows=4, editors=32, rounds=2, max_delay=0.05, seed=2)
            for model in MODELS
        ]
        stock_inline = inline_scenario(server, "stock", rows=2, editors=16, rounds=2, max_delay=0.05)
        ours.append(inline_scenario(server, "admin", rows=2, editors=16, rounds=2, max_delay=0.05, seed=2))
    finally:
        server.stop()
    report = "\n".join(r.line() for r in [stock, stock_inline, *ours])
    print(report)
    for result in [stock, *ours]:
        assert result.tally.outcomes["error"] == 0, (report, result.tally.errors[:5])
    # Stock admin, same options, same editors: the lost updates this feature exists to prevent.
    assert stock.lost, report
    for result in ours:
        assert result.lost == [], report
        assert result.tally.outcomes["saved"] > 0, report
        edits = 32 if result.model == "inlines" else 64
        assert result.tally.outcomes["saved"] + result.tally.outcomes["conflict"] == edits, report
    assert stock_inline.lost, report  # stock's inline rows lose updates too
