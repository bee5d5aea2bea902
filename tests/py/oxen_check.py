#!/usr/bin/env python3
"""Independent check of what OxDrop uploaded, with Oxen's own Python client (oxenai).

Reads a JSON request on stdin:
  {"host": "127.0.0.1:3000", "scheme": "http", "repo": "ns/name", "revision": "main",
   "expect": {"remote/path": "/local/file", ...}, "download": "folders"}
Downloads the expected paths with oxenai, compares the bytes with the local files, lists the
repository tree at that revision, and prints one JSON report on stdout. "download" is "folders"
(the default: one download per top-level file or folder, which oxenai fetches in parallel) or
"files" (one download per expected file: a few samples out of a folder of 50,000).
"""
import filecmp
import json
import os
import sys
import tempfile

from oxen import RemoteRepo


def walk(repo, directory, out):
    page = 1
    while True:
        listing = repo.ls(directory, page_num=page, page_size=1000)
        entries = listing.entries if hasattr(listing, "entries") else listing
        for entry in entries:
            path = f"{directory}/{entry.filename}" if directory else entry.filename
            if entry.is_dir:
                walk(repo, path, out)
            else:
                out.append(path)
        total_pages = getattr(listing, "total_pages", 1) or 1
        if page >= total_pages:
            return
        page += 1


def main():
    req = json.load(sys.stdin)
    repo = RemoteRepo(req["repo"], host=req["host"], scheme=req["scheme"],
                      revision=req["revision"])
    report = {"checked": 0, "mismatched": [], "missing": [], "tree": [], "log": []}
    with tempfile.TemporaryDirectory(prefix="oxen-check-") as tmp:
        # Download what was asked for, then compare every expected file with its local source.
        each_file = req.get("download", "folders") == "files"
        if each_file:
            units = sorted(req["expect"])
        else:
            units = sorted({remote.split("/", 1)[0] for remote in req["expect"]})
        failed = {}
        for i, unit in enumerate(units):
            dst = os.path.join(tmp, str(i))
            try:
                repo.download(unit, dst, revision=req["revision"])
            except Exception as e:  # noqa: BLE001 - any failure is missing files for the report
                failed[unit] = str(e)[:300]
        for remote, local in sorted(req["expect"].items()):
            top, _, rest = remote.partition("/")
            unit = remote if each_file else top
            if unit in failed:
                report["missing"].append({"path": remote, "error": failed[unit]})
                continue
            base = os.path.join(tmp, str(units.index(unit)))
            candidates = [os.path.join(base, remote), os.path.join(base, rest or top), base]
            if each_file:
                # A single file downloaded into a folder keeps only its own name.
                candidates.insert(2, os.path.join(base, remote.rsplit("/", 1)[-1]))
            got = next((c for c in candidates if os.path.isfile(c)), None)
            if got is None:
                report["missing"].append({"path": remote, "error": "not downloaded"})
                continue
            if not filecmp.cmp(got, local, shallow=False):
                report["mismatched"].append(remote)
            report["checked"] += 1
    if req.get("tree", True):
        walk(repo, "", report["tree"])
        report["tree"].sort()
    for commit in repo.log(revision=req["revision"], page_size=req.get("log", 10)):
        report["log"].append({"id": commit.id, "message": commit.message,
                              "author": commit.author, "email": commit.email})
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
