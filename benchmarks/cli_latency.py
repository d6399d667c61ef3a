"""Wall time of `hoering` commands on the embedded defaults (SQLite, local Prefect).

Staff run these commands many times a day; a state-changing command must finish in
under 3 s apart from its own work. Measured here, in the same run:
  - baseline: a read-only command (`hoering hearing status`), which never starts Prefect
  - service:  a state-changing command run by the warm flow service
              (`hoering hearing close-due`, which finds nothing due: no work of its own)
  - inline:   the same command with HOERING_INLINE_FLOWS=1 (Prefect imported in-process)
The first call (starting the local Prefect server and the service) is reported apart.

Run: .venv/bin/python -m benchmarks.cli_latency [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "hearings" / "24-750-kliniske-studier.yaml"


def _hoering(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"hoering {' '.join(args)} failed: {result.stderr.strip()}")
    return elapsed


def _median(env: dict[str, str], runs: int, *args: str) -> float:
    return statistics.median(_hoering(env, *args) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("HOERING_", "PREFECT_"))
        }
        env["HOERING_DATA_DIR"] = str(Path(folder) / "var")
        _hoering(env, "init")
        first = _hoering(env, "hearing", "create", str(SPEC), "--as-of", "2024-03-20")
        close_due = ("hearing", "close-due", "--as-of", "2024-04-01")
        baseline = _median(env, args.runs, "hearing", "status", "24/750")
        service = _median(env, args.runs, *close_due)
        inline = _median({**env, "HOERING_INLINE_FLOWS": "1"}, args.runs, *close_due)
        home = Path(env["HOERING_DATA_DIR"]) / "prefect"
        for sock in home.glob("flows-*.sock"):
            sock.unlink()  # the service exits when its socket is gone
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from flows.prefect_server import stop_server; "
                f"from pathlib import Path; stop_server(Path({str(env['HOERING_DATA_DIR'])!r}))",
            ],
            check=False,
        )
    print(f"first state-changing command (starts Prefect server + flow service): {first:6.2f} s")
    print(f"read-only command (baseline, no Prefect)     median {baseline:6.2f} s")
    print(
        f"state-changing, warm flow service             median {service:6.2f} s  "
        f"ratio {service / baseline:5.2f}  target < 3 s: {'met' if service < 3 else 'NOT met'}"
    )
    print(
        f"state-changing, inline (Prefect in-process)   median {inline:6.2f} s  "
        f"ratio {inline / baseline:5.2f}"
    )


if __name__ == "__main__":
    main()
