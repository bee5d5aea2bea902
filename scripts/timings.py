"""The table scripts/test prints at the end of every run: the time of each phase, then, from
nextest's JUnit report, each test binary and the ten slowest tests.

    python3 scripts/timings.py PHASES.tsv TOTAL_MS JUNIT.xml

PHASES.tsv has one "name<TAB>milliseconds<TAB>exit status" line per phase, in order.
"""

import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

# scripts/test marks a phase that ran beside others (its $BESIDE): its time overlaps theirs.
BESIDE = "(beside other phases)"


def seconds(ms: float) -> str:
    s = ms / 1000
    return f"{s:8.1f} s" + (f"  ({int(s // 60)} min {int(s % 60):02d} s)" if s >= 60 else "")


def phases(path: Path, total_ms: int) -> list[str]:
    lines = ["Phase                                      Time"]
    for row in path.read_text().splitlines():
        name, ms, rc = row.split("\t")
        note = ""
        if BESIDE in name:
            name = name.replace(BESIDE, "").strip()
            note = "   beside other phases (overlapping their time)"
        if rc != "0":
            note += f"   FAILED (exit {rc})"
        lines.append(f"  {name:<40} {seconds(int(ms))}{note}")
    lines.append(f"  {'Total':<40} {seconds(total_ms)}")
    return lines


def tests(path: Path) -> list[str]:
    if not path.is_file():
        return ["", "No nextest JUnit report (the tests did not run)."]
    binaries, slowest = [], []
    for suite in ET.parse(path).getroot().iter("testsuite"):
        spans, total = [], 0.0
        for case in suite.iter("testcase"):
            took = float(case.get("time", "0"))
            total += took
            slowest.append((took, f"{suite.get('name')} {case.get('name')}"))
            if case.get("timestamp"):
                start = datetime.fromisoformat(case.get("timestamp"))
                spans.append((start, start + timedelta(seconds=took)))
        wall = (max(e for _, e in spans) - min(s for s, _ in spans)).total_seconds() if spans else 0
        binaries.append((wall, suite.get("name"), int(suite.get("tests", "0")), total))
    lines = ["", "nextest, per test binary (longest first)      Tests   Wall, first start to last end    Sum of tests"]
    for wall, name, count, total in sorted(binaries, reverse=True):
        lines.append(f"  {name:<44} {count:5}   {seconds(wall * 1000):<32} {seconds(total * 1000)}")
    lines += ["", "The 10 slowest tests"]
    lines += [f"  {seconds(took * 1000):<26} {name}" for took, name in sorted(slowest, reverse=True)[:10]]
    return lines


def main() -> None:
    phases_tsv, total_ms, junit = sys.argv[1:4]
    print("\n".join(phases(Path(phases_tsv), int(total_ms)) + tests(Path(junit))))


if __name__ == "__main__":
    main()
