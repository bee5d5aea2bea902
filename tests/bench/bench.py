#!/usr/bin/env python3
"""OxDrop's benchmark: the same workloads, the same release oxen-server, several clients, one run.

Run it through scripts/bench (which builds what it needs). For each workload and client it takes
the median of several runs of wall time, throughput and the client's peak resident memory, and
writes BENCHMARKS.md (the table) and bench-results/results.json (every run).

Clients:
  oxdrop   OxDrop's core through its command line (`oxdrop upload`)
  oxenai   Oxen's own Python client: RemoteRepo.add(dir) + commit(), as its docs show
  put      the seed guide's way: one multipart `PUT /file` per file with curl (2 MiB limit)
  limit    (big file only) the server's ingest limit: parts already in RAM, hash precomputed,
           sent with curl --parallel; no client-side work at all
"""
import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

MiB = 1024 * 1024
NS = "bench"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ----- processes and measurement ------------------------------------------------------------------

def run_measured(cmd, env=None, ok_codes=(0,), stdin=None):
    """Runs cmd; returns (wall seconds, peak RSS in MiB, exit code, stdout+stderr tail)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if stdin:
        proc.stdin.write(stdin)
        proc.stdin.close()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    text = out.decode(errors="replace")
    if code not in ok_codes:
        raise RuntimeError(f"{cmd[0]} exited {code}:\n{text[-3000:]}")
    return wall, usage.ru_maxrss / 1024, code, text[-500:]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, binary, root):
        self.dir = Path(tempfile.mkdtemp(prefix="oxdrop-bench-server-", dir=root))
        (self.dir / "sync").mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(
            [binary, "--config-dir", str(self.dir / "config"), "start", "--ip", "127.0.0.1", "--port", str(self.port)],
            cwd=self.dir, env={**os.environ, "SYNC_DIR": str(self.dir / "sync"), "RUST_LOG": "warn"},
            stdout=self.log, stderr=self.log)
        for _ in range(600):
            try:
                req = urllib.request.Request(f"{self.url}/api/health", headers={"User-Agent": "bench/1.0"})
                if urllib.request.urlopen(req, timeout=1).status == 200:
                    return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("oxen-server did not start")

    def api(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        h = {"User-Agent": "bench/1.0", **(headers or {})}
        if data is not None:
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(f"{self.url}/api/{path}", data=data, method=method, headers=h)
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read() or b"{}")

    def new_repo(self, name, seed=True):
        self.api("POST", "repos", {"namespace": NS, "name": name})
        if seed:
            # Every client starts from a repository with one commit on main, as real work does.
            self.api("PUT", f"repos/{NS}/{name}/workspaces", {"workspace_id": f"seed-{name}", "branch_name": "main"})
            self.api("DELETE", f"repos/{NS}/{name}/workspaces/seed-{name}")
        return f"{NS}/{name}"

    def delete_repo(self, repo):
        """Frees the disk between runs (the 2 GiB workloads would otherwise fill it) and waits for
        the server's background deletion to finish, so it does not slow the next run."""
        self.api("DELETE", f"repos/{repo}")
        for _ in range(600):
            try:
                self.api("GET", f"repos/{repo}")
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    break
            time.sleep(0.1)
        time.sleep(1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


# ----- workloads ----------------------------------------------------------------------------------

def make_small(root, count=2000, seed=1):
    """2,000 files of 4-64 KiB: half text-like (CSV rows), half binary (random bytes)."""
    rng = random.Random(seed)
    base = root / "small"
    for i in range(count):
        d = base / f"part-{i % 20:02d}"
        d.mkdir(parents=True, exist_ok=True)
        size = rng.randint(4 * 1024, 64 * 1024)
        if i % 2:
            data = rng.randbytes(size)
        else:
            line = ",".join(str(rng.randint(0, 10**6)) for _ in range(8)) + "\n"
            data = (line * (size // len(line) + 1)).encode()[:size]
        (d / f"item-{i:05d}.{'bin' if i % 2 else 'csv'}").write_bytes(data)
    return base


def make_medium(root, count=200, size=10 * MiB, seed=2):
    rng = random.Random(seed)
    base = root / "medium"
    base.mkdir(parents=True)
    block = rng.randbytes(MiB)
    for i in range(count):
        with open(base / f"shard-{i:03d}.bin", "wb") as f:
            for j in range(size // MiB):
                # Different bytes in every MiB of every file: nothing deduplicates.
                f.write(i.to_bytes(4, "little") + j.to_bytes(4, "little") + block[8:])
    return base


def make_big(root, size=2048 * MiB, seed=3):
    rng = random.Random(seed)
    base = root / "big"
    base.mkdir(parents=True)
    block = rng.randbytes(MiB)
    with open(base / "dataset.bin", "wb") as f:
        for j in range(size // MiB):
            f.write(j.to_bytes(8, "little") + block[8:])
    return base


# ----- clients ------------------------------------------------------------------------------------

def oxdrop(args, server, repo, src, message, binary=None):
    env = {**os.environ, "OXDROP_CONFIG_DIR": args.scratch + "/oxdrop-config",
           "OXDROP_DATA_DIR": args.scratch + "/oxdrop-data", "OXDROP_AUTHOR": "Bench <bench@example.com>"}
    env.pop("OXDROP_API_KEY", None)
    cmd = [binary or args.oxdrop, "--server", server.url, "upload", str(src), "--repo", repo, "-m", message, "--fresh"]
    return run_measured(cmd, env=env, ok_codes=(0, 3))


def oxdrop_baseline(args, server, repo, src, message):
    """An earlier build of `oxdrop` (--oxdrop-baseline): did a change to the engine cost speed?"""
    return oxdrop(args, server, repo, src, message, binary=args.oxdrop_baseline)


OXENAI_SCRIPT = r"""
import sys, oxen
from oxen import RemoteRepo
from oxen import user as oxen_user
host, repo_id, src, dst, message = sys.argv[1:6]
oxen_user.config_user("Bench", "bench@example.com")
repo = RemoteRepo(repo_id, host=host, scheme="http")
repo.add(src, dst)
try:
    repo.commit(message)
except Exception as e:
    if "NoChanges" in str(e) or "no changes" in str(e).lower():
        sys.exit(3)
    raise
"""


def oxenai(args, server, repo, src, message):
    home = Path(args.scratch) / "oxenai-home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "OXEN_CONFIG_DIR": str(home / "oxen")}
    cmd = [args.python, "-c", OXENAI_SCRIPT, f"127.0.0.1:{server.port}", repo, str(src), src.name, message]
    return run_measured(cmd, env=env, ok_codes=(0, 3))


def put_per_file(args, server, repo, src, message):
    """One curl process per file, as a shell loop would run it; peak RSS is the largest curl."""
    files = sorted(p for p in src.rglob("*") if p.is_file())
    if any(p.stat().st_size > 2 * MiB - 64 * 1024 for p in files):
        return None
    start = time.perf_counter()
    peak = 0.0
    for p in files:
        rel = p.relative_to(src.parent).as_posix()
        url = f"{server.url}/api/repos/{repo}/file/main/{urllib.request.quote(rel)}"
        cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-A", "bench/1.0", "-X", "PUT",
               "-F", f"file=@{p}", "-F", "name=Bench", "-F", "email=bench@example.com", "-F", f"message={message}", url]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        peak = max(peak, usage.ru_maxrss / 1024)
        if out not in ("200", "422"):  # 422: no changes (re-upload)
            raise RuntimeError(f"PUT {rel}: HTTP {out}")
    return time.perf_counter() - start, peak, 0, ""


def xxh3_128_hex(path):
    """The server's hash (XXH3-128, lowercase hex without leading zeros), via oxdrop's own code
    would be cheating; use the xxhash module from PyPI."""
    import xxhash  # installed into the bench venv by scripts/bench
    h = xxhash.xxh3_128()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            h.update(chunk)
    return format(h.intdigest(), "x")


def server_limit(args, server, repo, src, message):
    """The fastest any client could go: parts already in RAM (tmpfs), hash known in advance,
    curl --parallel for the parts, then the commit. Preparation is not timed."""
    path = next(src.iterdir())
    size = path.stat().st_size
    digest = xxh3_128_hex(path)
    shm = Path(tempfile.mkdtemp(prefix="oxdrop-parts-", dir="/dev/shm"))
    try:
        ws = f"limit-{time.time_ns()}"
        start = time.perf_counter()
        server.api("PUT", f"repos/{repo}/workspaces", {"workspace_id": ws, "branch_name": "main"})
        begun = server.api("POST", f"repos/{repo}/versions/uploads",
                           {"hash": digest, "size": size, "destination": {"workspace_id": ws, "path": f"{src.name}/{path.name}"}})
        part_size, num = begun["part_size"], begun["num_parts"]
        prep_start = time.perf_counter()
        with open(path, "rb") as f:
            for n in range(1, num + 1):
                (shm / f"p{n}").write_bytes(f.read(part_size))
        prep = time.perf_counter() - prep_start
        cfg = shm / "curl.cfg"
        with open(cfg, "w") as c:
            for n in range(1, num + 1):
                c.write(f'url = "{server.url}/api/repos/{repo}/versions/uploads/{begun["upload_id"]}/parts/{n}"\n')
                c.write(f'upload-file = "{shm}/p{n}"\noutput = "/dev/null"\n')
        subprocess.run(["curl", "-sS", "--parallel", "--parallel-max", str(args.limit_parallel), "-A", "bench/1.0",
                        "-H", "Content-Type: application/octet-stream", "--retry", "20", "--retry-all-errors",
                        "--retry-delay", "1", "-K", str(cfg)], check=True)
        server.api("POST", f"repos/{repo}/workspaces/{ws}/merge/main",
                   {"message": message, "author": "Bench", "email": "bench@example.com"})
        return time.perf_counter() - start - prep, 0.0, 0, ""
    finally:
        shutil.rmtree(shm, ignore_errors=True)


# ----- the run ------------------------------------------------------------------------------------

def median(xs):
    return statistics.median(xs) if xs else None


def bench_workload(args, server, name, src, clients, runs, reupload=False):
    """Round-robin: run 1 of every client, then run 2 of every client, and so on, so that
    anything that drifts during a workload (page-cache writeback, the server's background work)
    falls on every client alike instead of on whichever goes first."""
    os.sync()  # the freshly written data must not be flushed to disk during the first client's run
    size = sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    count = sum(1 for p in src.rglob("*") if p.is_file())
    wanted = args.clients.split(",") if args.clients else None
    clients = [(n, fn) for n, fn in clients if wanted is None or n in wanted]
    samples = {n: [] for n, _ in clients}
    unsupported = set()
    for r in range(runs):
        for client_name, fn in clients:
            # One PUT per file makes one commit per file: minutes for 2,000 files, so it runs once.
            if client_name in unsupported or (client_name == "put" and r > 0):
                continue
            repo = server.new_repo(f"{name}-{client_name}-{r}-{time.time_ns() % 10**8}")
            # For a re-upload the same files go onto the branch first; only the second upload counts.
            first_ok = not reupload or fn(args, server, repo, src, "first") is not None
            res = fn(args, server, repo, src, f"{name} by {client_name}") if first_ok else None
            server.delete_repo(repo)
            if res is None:
                unsupported.add(client_name)
                continue
            wall, rss, code, _ = res
            samples[client_name].append({"wall": wall, "rss_mib": rss, "exit": code})
            log(f"  {name:10} {client_name:7} run {r + 1}: {wall:7.2f} s  {rss:7.1f} MiB  (exit {code})")
    results = {}
    for client_name, runs_of in samples.items():
        if not runs_of:
            results[client_name] = None
            continue
        wall = median([s["wall"] for s in runs_of])
        results[client_name] = {
            "runs": runs_of, "wall": wall, "rss_mib": max(s["rss_mib"] for s in runs_of),
            "mib_per_s": size / MiB / wall if wall else None, "files": count, "bytes": size,
        }
    return results


def app_metrics(args):
    """Launch to first painted content under Xvfb, idle memory, and the .deb size."""
    out = {}
    if not args.app or not Path(args.app).exists():
        return out
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "DISPLAY": display, "OXDROP_CONFIG_DIR": args.scratch + "/app-config",
           "OXDROP_DATA_DIR": args.scratch + "/app-data", "NO_AT_BRIDGE": "1"}
    try:
        for _ in range(100):
            if subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        launches = []
        idle = None
        for _ in range(5):
            start = time.perf_counter()
            app = subprocess.Popen([args.app], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            painted = None
            while time.perf_counter() - start < 60:
                wid = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^OxDrop$"], env=env,
                                     capture_output=True, text=True).stdout.split()
                if wid:
                    colors = subprocess.run(["import", "-window", wid[0], "-format", "%k", "info:"], env=env,
                                            capture_output=True, text=True).stdout.strip()
                    if colors.isdigit() and int(colors) > 20:  # text and buttons drawn, not a blank window
                        painted = time.perf_counter() - start
                        break
                time.sleep(0.02)
            launches.append(painted)
            if idle is None and painted is not None:
                time.sleep(5)
                idle = process_tree_rss(app.pid)
            app.terminate()
            app.wait(timeout=20)
        ok = [x for x in launches if x is not None]
        out["launch_to_content_s"] = median(ok)
        out["launch_runs"] = launches
        if idle:
            out["idle_rss_app_mib"], out["idle_rss_total_mib"] = idle
    finally:
        xvfb.terminate()
        xvfb.wait()
    if args.deb and Path(args.deb).exists():
        out["deb_mib"] = Path(args.deb).stat().st_size / MiB
        out["deb_name"] = Path(args.deb).name
    return out


def process_tree_rss(pid):
    """VmRSS of the app process, and of it plus its WebKit helper processes, in MiB."""
    def rss(p):
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return 0.0
        return 0.0
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += rss(p)
        stack.extend(children.get(p, []))
    return rss(pid), total


def fmt(x, unit="", digits=2):
    return "—" if x is None else f"{x:.{digits}f}{unit}"


def targets_section(results):
    """The issue's targets, each with the measured figure and whether it is met."""
    def wall(wl, client):
        c = (results.get(wl) or {}).get(client)
        return c["wall"] if c else None

    rows = []

    def row(target, value, met):
        rows.append(f"| {target} | {value} | {'met' if met else '**missed**'} |")

    small_ox, small_py = wall("small", "oxdrop"), wall("small", "oxenai")
    if small_ox and small_py:
        r = small_ox / small_py
        row("2,000 small files: ≤ 0.67× oxenai's time", f"{r:.2f}×", r <= 0.67)
    big_ox, big_py, big_limit = wall("big", "oxdrop"), wall("big", "oxenai"), wall("big", "limit")
    if big_ox and big_py:
        r = big_ox / big_py
        row("2 GiB file: ≤ 0.9× oxenai's time", f"{r:.2f}×", r <= 0.9)
    if big_ox and big_limit:
        share = big_limit / big_ox
        row("2 GiB file: ≥ 80% of the server's ingest limit", f"{share:.0%}", share >= 0.8)
    peaks = [c["rss_mib"] for wl in results.values() for name, c in (wl or {}).items()
             if name == "oxdrop" and c]
    if peaks:
        row("OxDrop's peak memory ≤ 100 MiB in every workload", f"{max(peaks):.1f} MiB", max(peaks) <= 100)
    if not rows:
        return []
    return ["## Targets", "", "| target | measured | |", "|---|---:|---|", *rows, ""]


def write_markdown(path, meta, results, app):
    lines = ["# Benchmarks", "",
             "OxDrop against Oxen's own Python client and the seed guide's one-PUT-per-file, on the same",
             "machine, the same release oxen-server 0.65.2 on loopback, in one run.", "",
             f"Reproduce: `{meta['command']}`", "",
             f"Machine: {meta['machine']}. Run: {meta['date']}. Median of {meta['runs']} runs per cell, the",
             "clients taking turns run by run, data synced to disk before timing; peak",
             "memory is the client process's maximum resident set (for `put`, the largest curl; `put` runs",
             "once: it makes one commit per file).", ""]
    for wl, title in [("small", "2,000 small files (4–64 KiB, half text, half binary), one commit"),
                      ("medium", "200 files of 10 MiB"),
                      ("big", "one file of 2 GiB"),
                      ("reupload", "re-upload of the same 2,000 files (nothing changed)")]:
        r = results.get(wl)
        if not r:
            continue
        lines += [f"## {title}", "", "| client | wall time | throughput | peak memory | OxDrop ÷ client |",
                  "|---|---:|---:|---:|---:|"]
        ox = r.get("oxdrop")
        for name, label in [("oxdrop", "OxDrop (`oxdrop upload`)"),
                            ("baseline", "OxDrop, earlier build (`--oxdrop-baseline`)"),
                            ("oxenai", "oxenai (`add` + `commit`)"),
                            ("put", "PUT per file (curl)"), ("limit", "server ingest limit")]:
            if name not in r:
                continue
            c = r[name]
            if c is None:
                lines.append(f"| {label} | n/a | | | (files over PUT's 2 MiB limit) |")
                continue
            ratio = (ox["wall"] / c["wall"]) if ox and name != "oxdrop" else None
            lines.append(f"| {label} | {fmt(c['wall'], ' s')} | {fmt(c['mib_per_s'], ' MiB/s', 1)} | "
                         f"{fmt(c['rss_mib'] or None, ' MiB', 1)} | {fmt(ratio, '×') if ratio else ''} |")
        lines.append("")
    lines += targets_section(results)
    if app:
        lines += ["## The app", "", "| measure | value |", "|---|---:|",
                  f"| launch to first painted content (Xvfb, median of {len([x for x in app.get('launch_runs', []) if x])}) | {fmt(app.get('launch_to_content_s'), ' s')} |",
                  f"| resident memory when idle: app process | {fmt(app.get('idle_rss_app_mib'), ' MiB', 1)} |",
                  f"| resident memory when idle: app + WebKit processes | {fmt(app.get('idle_rss_total_mib'), ' MiB', 1)} |",
                  f"| `.deb` size ({app.get('deb_name', '')}) | {fmt(app.get('deb_mib'), ' MiB', 1)} |", ""]
    Path(path).write_text("\n".join(lines) + meta.get("notes", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--oxdrop", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--app")
    ap.add_argument("--deb")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limit-parallel", type=int, default=8)
    ap.add_argument("--only", default="small,medium,big,reupload")
    ap.add_argument("--clients", default="", help="only these clients (e.g. oxdrop,limit), for experiments")
    ap.add_argument("--out", default="BENCHMARKS.md")
    ap.add_argument("--json", default="bench-results/results.json")
    ap.add_argument("--command", default="scripts/bench")
    ap.add_argument("--notes", default="")
    ap.add_argument("--oxdrop-baseline", help="an earlier oxdrop build, run as one more client")
    args = ap.parse_args()
    baseline = [("baseline", oxdrop_baseline)] if args.oxdrop_baseline else []

    work = Path(tempfile.mkdtemp(prefix="oxdrop-bench-"))
    args.scratch = str(work / "scratch")
    Path(args.scratch).mkdir()
    only = set(args.only.split(","))
    results = {}
    server = Server(args.server_bin, work)
    try:
        data = work / "data"
        if only & {"small", "reupload"}:
            small = make_small(data)
        if "small" in only:
            log("== 2,000 small files")
            results["small"] = bench_workload(args, server, "small", small,
                                              [("oxdrop", oxdrop), *baseline, ("oxenai", oxenai), ("put", put_per_file)], args.runs)
        if "reupload" in only:
            log("== re-upload of the same 2,000 files")
            results["reupload"] = bench_workload(args, server, "reupload", small,
                                                 [("oxdrop", oxdrop), *baseline, ("oxenai", oxenai), ("put", put_per_file)],
                                                 args.runs, reupload=True)
        if "medium" in only:
            log("== 200 files of 10 MiB")
            medium = make_medium(data)
            results["medium"] = bench_workload(args, server, "medium", medium,
                                               [("oxdrop", oxdrop), *baseline, ("oxenai", oxenai), ("put", put_per_file)], args.runs)
            shutil.rmtree(medium)
        if "big" in only:
            log("== one 2 GiB file")
            big = make_big(data)
            results["big"] = bench_workload(args, server, "big", big,
                                            [("oxdrop", oxdrop), *baseline, ("oxenai", oxenai),
                                             ("put", put_per_file), ("limit", server_limit)], args.runs)
            shutil.rmtree(big)
    finally:
        server.stop()
    app = app_metrics(args)
    meta = {
        "command": args.command,
        "machine": f"{os.cpu_count()} cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB RAM, {platform.platform()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": args.runs,
        "notes": args.notes,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"meta": meta, "results": results, "app": app}, indent=2))
    write_markdown(args.out, meta, results, app)
    shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {args.out} and {args.json}")


if __name__ == "__main__":
    main()
