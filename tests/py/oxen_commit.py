#!/usr/bin/env python3
"""A collaborator's commit, made with Oxen's own Python client (oxenai) as another author.

Reads a JSON request on stdin:
  {"host": "127.0.0.1:3000", "scheme": "http", "repo": "ns/name", "branch": "main",
   "author": {"name": "...", "email": "..."}, "message": "...",
   "put": {"remote/path": "/local/file"} or "delete": "remote/path"}
Makes one commit on the branch (a file written, or a file removed) and prints
{"commit": "<the branch's new head>"} on stdout.
"""
import json
import os
import sys

from oxen import RemoteRepo, user


def main():
    req = json.load(sys.stdin)
    user.config_user(req["author"]["name"], req["author"]["email"])
    repo = RemoteRepo(req["repo"], host=req["host"], scheme=req["scheme"],
                      revision=req["branch"])
    if "put" in req:
        ((remote, local),) = req["put"].items()
        directory, _, name = remote.rpartition("/")
        repo.upload(local, req["message"], file_name=name, dst_dir=directory,
                    branch=req["branch"])
    else:
        repo.delete_file(req["delete"], req["message"], branch=req["branch"])
    head = next(iter(repo.log(revision=req["branch"], page_size=1)))
    json.dump({"commit": head.id}, sys.stdout)


if __name__ == "__main__":
    main()
