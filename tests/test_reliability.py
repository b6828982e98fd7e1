"""The real `kabar run` process under kill -9 and platform faults (the reduced CI run of
`python -m bench.bench_reliability`): every alert arrives, duplicates only from messages in
flight at a kill, no rate limit exceeded, gone chats marked inactive, the store intact."""

from __future__ import annotations

from pathlib import Path

from bench.bench_reliability import Scenario, run_scenario

MAX_IN_FLIGHT_PER_KILL = 3  # sends overlap only briefly at 29/s; each could be cut mid-request


async def test_kill_dash_nine_and_faults_lose_nothing(tmp_path: Path) -> None:
    report = await run_scenario(tmp_path, Scenario())
    print("\n".join(report.lines()))  # shown with pytest -s; the README quotes the bench run
    assert report.kills == 3
    assert report.missing == [], (tmp_path / "kabar-run.log").read_text()[-3000:]
    assert report.delivered == report.expected == 204
    assert report.duplicates <= report.kills * MAX_IN_FLIGHT_PER_KILL
    assert report.violations == 0
    assert report.inactive == ["telegram:1001", "slack:C0002"]
    assert report.outbox == {"sent": 204, "skipped": 12}
    assert report.integrity_ok
