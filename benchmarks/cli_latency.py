"""Wall time of `hoering` commands on the embedded defaults (SQLite, a local Prefect server).

Measured in one run, each a median over --runs calls, in a fresh temporary installation:
  - `python -c "import prefect"`: what importing Prefect alone costs on this machine
  - read-only commands (`hearing status`, `ids next`): never import Prefect
  - a refusal (`hearing circulate` of an unknown case): answered from the database,
    before Prefect is imported (target <= 1 s)
  - `review set`: straight to storage with its audit row, no flow run (target <= 1 s)
  - lifecycle steps with the server warm: `hearing circulate` and `hearing close`, each a
    direct call of its flow against the running Prefect API (target median <= 5 s)
  - with --deployment also the other way: `run_deployment` of close-hearing/on-demand,
    executed by a `hoering worker` (needs `hoering deploy`, about 40 s more)
The server is started with `hoering server start` and stopped at the end, as is the worker.

Run: .venv/bin/python -m benchmarks.cli_latency [--runs 5] [--deployment]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.installation_helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "hearings" / "24-750-kliniske-studier.yaml"
RESPONSE = ROOT / "examples" / "responses" / "24-750" / "2024-04-22-helse-nord.eml"


def _timed(env: dict[str, str], args: list[str], expect: int = 0) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode != expect:
        raise SystemExit(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
    return elapsed


def _hoering(env: dict[str, str], *args: str, expect: int = 0) -> float:
    return _timed(env, [sys.executable, "-m", "cli.main", *args], expect)


def _median(times: list[float]) -> float:
    return statistics.median(times)


def _spec_for(folder: Path, number: int) -> Path:
    path = folder / f"spec-{number}.yaml"
    text = SPEC.read_text(encoding="utf-8")
    if number != 750:  # another hearing: its own case number, the ledger's next IDs
        text = text.replace('case: "24/750"', f'case: "24/{number}"', 1)
        text = re.sub(r"(?m)^\s*expected_id:.*\n", "", text)
    path.write_text(text, encoding="utf-8")
    return path


def _via_deployment(env: dict[str, str], cases: list[str]) -> list[float]:
    """close-hearing/on-demand through run_deployment, run by a worker."""
    _hoering(env, "deploy")
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    probe = (
        "import sys\nfrom flows.flow_runner import prepare_prefect\nprepare_prefect()\n"
        "from prefect.deployments import run_deployment\n"
        "run = run_deployment('close-hearing/on-demand', parameters={'case': sys.argv[1],"
        " 'as_of': '2024-06-01T08:00:00+02:00'}, timeout=600)\n"
        "sys.exit(0 if run.state.is_completed() else 1)\n"
    )
    try:
        return [_timed(env, [sys.executable, "-c", probe, case]) for case in cases]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def _line(label: str, seconds: float, target: float | None = None) -> str:
    verdict = ""
    if target is not None:
        verdict = f"  target <= {target:g} s: {'met' if seconds <= target else 'NOT met'}"
    return f"{label:<58} median {seconds:6.2f} s{verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--deployment", action="store_true", help="also via run_deployment")
    args = parser.parse_args()
    runs = args.runs
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOERING_", "PREFECT_"))}
        env.update(
            HOERING_DATA_DIR=str(Path(folder) / "var"),
            HOERING_ACTOR="bench",
            PYTHONPATH=str(ROOT),
            PREFECT_SERVER_API_PORT=str(free_port()),
            PREFECT_WORKER_QUERY_SECONDS="2",
        )
        rows = [
            _line(
                'python -c "import prefect"',
                _median([_timed(env, [sys.executable, "-c", "import prefect"]) for _ in range(3)]),
            )
        ]
        _hoering(env, "init")
        rows.append(
            _line(
                "refusal: circulate an unknown case (no server needed)",
                _median(
                    [_hoering(env, "hearing", "circulate", "99/999", expect=2) for _ in range(runs)]
                ),
                1,
            )
        )
        server_start = _hoering(env, "server", "start")
        try:
            numbers = [750, *range(801, 800 + runs)]  # 24/750 gets the example response
            cases = [f"24/{n}" for n in numbers]
            for number in numbers:
                _hoering(env, "hearing", "create", str(_spec_for(Path(folder), number)))
            circulate = [
                _hoering(env, "hearing", "circulate", case, "--as-of", "2024-03-22")
                for case in cases
            ]
            _hoering(env, "responses", "import", str(RESPONSE), "--as-of", "2024-04-22")
            listed = subprocess.run(
                [sys.executable, "-m", "cli.main", "responses", "list", "24/750", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            response = json.loads(listed.stdout)[0]["tracking_number"]
            review_set = [
                _hoering(env, "review", "set", response, "--stance", stance)
                for stance in ["støtter", "går imot"] * runs
            ][:runs]
            rows += [
                _line("server start (hoering server start, once)", server_start),
                _line("lifecycle step, server warm: hearing circulate", _median(circulate), 5),
            ]
            if args.deployment:
                deployed = _via_deployment(env, cases)
                rows.append(
                    _line("same step via run_deployment + worker (close)", _median(deployed))
                )
            else:
                close = [
                    _hoering(env, "hearing", "close", case, "--as-of", "2024-06-01")
                    for case in cases
                ]
                rows.append(_line("lifecycle step, server warm: hearing close", _median(close), 5))
            rows += [
                _line("review set (no flow run)", _median(review_set), 1),
                _line(
                    "read-only: hearing status",
                    _median([_hoering(env, "hearing", "status", "24/750") for _ in range(runs)]),
                ),
                _line(
                    "read-only: ids next BLS",
                    _median([_hoering(env, "ids", "next", "BLS") for _ in range(runs)]),
                ),
            ]
        finally:
            _hoering(env, "server", "stop")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
