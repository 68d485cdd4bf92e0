"""How long ``netgraph --help`` takes to answer: min and median of 20 fresh processes.

Run: ``python -m benchmarks.bench_startup [--runs 20]`` (or ``make bench-startup``).
Writes ``benchmarks/results/startup.json`` and prints a Markdown table.

The target (issue 14) is under 0.2 s on a quiet machine. Start-up is dominated by imports,
so the same measurement of a bare ``python -c pass`` and of ``import typer`` is recorded
beside it: what is left above those is netgraph's own cost. The minimum is the figure
closest to a quiet machine; the median shows what a shared one gives.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import RESULTS_DIR, machine_info, write_json

TARGET_SECONDS = 0.2


def _command_path() -> list[str]:
    """The installed ``netgraph`` script next to this interpreter (what a user runs)."""
    script = Path(sys.executable).with_name("netgraph")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "netgraph_cli.main"]


def time_runs(command: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes (one untimed warm-up fills the file cache)."""
    subprocess.run(command, capture_output=True, check=True)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "netgraph --help": [*_command_path(), "--help"],
        "netgraph reduce --help": [*_command_path(), "reduce", "--help"],
    }
    rows = []
    for name, command in cases.items():
        seconds = time_runs(command, args.runs)
        rows.append({"case": name, "runs": args.runs, "min_s": min(seconds), "median_s": statistics.median(seconds),
                     "max_s": max(seconds)})
    help_row = next(row for row in rows if row["case"] == "netgraph --help")
    result = {
        "machine": machine_info(),
        "target_s": TARGET_SECONDS,
        "passed": help_row["min_s"] < TARGET_SECONDS,
        "rows": rows,
    }
    write_json(RESULTS_DIR / "startup.json", result)
    print("| command | min (s) | median (s) | max (s) |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| `{row['case']}` | {row['min_s']:.3f} | {row['median_s']:.3f} | {row['max_s']:.3f} |")
    verdict = "PASS" if result["passed"] else "MISS"
    print(f"\n`netgraph --help` min {help_row['min_s']:.3f} s over {args.runs} runs: {verdict} (target < {TARGET_SECONDS} s); "
          f"load average {result['machine']['load_average']}")
    return result


if __name__ == "__main__":
    main()
