#!/usr/bin/env python3
"""Memory and idle CPU of `oxdrop watch run` watching folders of 1,000 / 10,000 / 50,000 files.

For each size: a fresh folder (files spread over 100 subfolders), a watch added with
`oxdrop watch add` and paused (so the files are looked at and kept in memory as waiting,
the most the watch holds, and nothing is uploaded), then `oxdrop watch run`. Once its start
rescan is done ("Paused (N files waiting)"), the process is left idle for --idle seconds and
/proc/<pid> is read before and after: CPU (utime+stime), resident memory (VmRSS) and its peak
(VmHWM), and the number of inotify watches. Prints a Markdown table.

  tests/bench/watch_idle.py --oxdrop target/release/oxdrop --server-bin PATH [--sizes 1000,10000,50000] [--idle 60]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(binary, root):
    (root / "sync").mkdir()
    port = free_port()
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [binary, "--config-dir", str(root / "config"), "start", "--ip", "127.0.0.1", "--port", str(port)],
        cwd=root, env={**os.environ, "SYNC_DIR": str(root / "sync"), "RUST_LOG": "warn"},
        stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            req = urllib.request.Request(f"{url}/api/health", headers={"User-Agent": "bench/1.0"})
            if urllib.request.urlopen(req, timeout=1).status == 200:
                return proc, url
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("oxen-server did not start")


def make_folder(folder, n):
    for i in range(n):
        d = folder / f"d{i % 10}" / f"e{(i // 10) % 10}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f-{i:06d}.csv").write_text(f"{i},{i * 7}\n")


def proc_status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    kib = lambda k: int(fields[k].split()[0])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / TICKS  # utime, stime (fields 14 and 15)
    return {"rss": kib("VmRSS"), "hwm": kib("VmHWM"), "cpu": cpu, "threads": int(fields["Threads"])}


def inotify_watches(pid):
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == "anon_inode:inotify":
                text = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                count += sum(1 for line in text.splitlines() if line.startswith("inotify wd:"))
        except OSError:
            pass
    return count


def measure(oxdrop, url, root, n, idle):
    home = root / f"home-{n}"
    folder = root / f"folder-{n}"
    env = {**os.environ,
           "OXDROP_CONFIG_DIR": str(home / "config"), "OXDROP_DATA_DIR": str(home / "data"),
           "OXDROP_KEYCHAIN_SERVICE": f"OxDrop-bench-{uuid.uuid4().hex[:8]}",
           "OXDROP_AUTHOR": "Bench <bench@example.com>"}
    for k in ("OXDROP_API_KEY", "OXDROP_SERVER"):
        env.pop(k, None)
    run = lambda *args: subprocess.run([oxdrop, *args], env=env, check=True, capture_output=True, text=True)
    make_folder(folder, n)
    repo = f"bench/watch-{n}-{uuid.uuid4().hex[:6]}"
    run("--server", url, "create-repo", repo)
    watch = json.loads(run("--server", url, "--json", "watch", "add", str(folder), "--repo", repo).stdout)
    run("watch", "pause", watch["id"])

    out_path = home / "watch-run.log"
    out = open(out_path, "w")
    started = time.monotonic()
    proc = subprocess.Popen([oxdrop, "watch", "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
    waiting = f"Paused ({n:,} files waiting)".replace(",", "")
    while waiting not in out_path.read_text():
        if proc.poll() is not None or time.monotonic() - started > 600:
            raise RuntimeError(f"watch run did not get ready: {out_path.read_text()}")
        time.sleep(0.05)
    ready = time.monotonic() - started
    # Files just found are looked at again for a few seconds (settle 3 s + recheck 1 s) before
    # the watch has nothing left to do: idle starts after that.
    time.sleep(10)
    before = proc_status(proc.pid)
    time.sleep(idle)
    after = proc_status(proc.pid)
    watches = inotify_watches(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)
    busy = after["cpu"] - before["cpu"]
    return {"files": n, "dirs": 111, "watches": watches, "ready_s": ready,
            "rss_before_mib": before["rss"] / 1024, "rss_after_mib": after["rss"] / 1024,
            "peak_mib": after["hwm"] / 1024, "idle_cpu_s": busy, "idle_cpu_pct": 100 * busy / idle,
            "threads": after["threads"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--oxdrop", required=True)
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--idle", type=int, default=60)
    ap.add_argument("--command", default="tests/bench/watch_idle.py")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="oxdrop-bench-watch-"))
    (root / "server").mkdir()
    server, url = start_server(args.server_bin, root / "server")
    try:
        rows = [measure(args.oxdrop, url, root, int(n), args.idle) for n in args.sizes.split(",")]
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    print(f"Reproduce: `{args.command}`. Idle: {args.idle} s, read from /proc/<pid> of `oxdrop watch run`.\n")
    print("| files watched | folders | inotify watches | start rescan done | RSS idle start | RSS idle end | peak RSS (VmHWM) | CPU in idle | threads |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['files']:,} | {r['dirs']} | {r['watches']} | {r['ready_s']:.1f} s | {r['rss_before_mib']:.1f} MiB "
              f"| {r['rss_after_mib']:.1f} MiB | {r['peak_mib']:.1f} MiB | {r['idle_cpu_s']:.2f} s ({r['idle_cpu_pct']:.2f} %) "
              f"| {r['threads']} |")
    print("\n" + json.dumps(rows))


if __name__ == "__main__":
    main()
