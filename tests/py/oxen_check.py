#!/usr/bin/env python3
"""Independent check of what OxDrop uploaded, with Oxen's own Python client (oxenai).

Reads a JSON request on stdin:
  {"host": "127.0.0.1:3000", "scheme": "http", "repo": "ns/name", "revision": "main",
   "expect": {"remote/path": "/local/file", ...}}
Downloads the expected paths with oxenai (one download per top-level file or folder), compares the
bytes with the local files, lists the repository tree at that revision, and prints one JSON report
on stdout.
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
        # One download per top-level file or folder (oxenai fetches folders in parallel), then
        # compare every expected file with its local source.
        tops = sorted({remote.split("/", 1)[0] for remote in req["expect"]})
        failed_tops = {}
        for i, top in enumerate(tops):
            dst = os.path.join(tmp, str(i))
            try:
                repo.download(top, dst, revision=req["revision"])
            except Exception as e:  # noqa: BLE001 - any failure is missing files for the report
                failed_tops[top] = str(e)[:300]
        for remote, local in sorted(req["expect"].items()):
            top, _, rest = remote.partition("/")
            if top in failed_tops:
                report["missing"].append({"path": remote, "error": failed_tops[top]})
                continue
            base = os.path.join(tmp, str(tops.index(top)))
            candidates = [os.path.join(base, remote), os.path.join(base, rest or top), base]
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
