"""Build two small retrieval corpora from what is installed, for calibrating and checking the
rerank blend on text unlike SciFact and the Kubernetes docs.

- ``cli-help``: one markdown page per command-line tool, its ``--help`` output (short,
  terse, option lists). Queries and judgements: ``tests/data/cli-help/``.
- ``pydoc``: one page per Python standard-library module, the first part of its ``pydoc``
  text (prose docstrings and signatures). Queries and judgements: ``tests/data/pydoc/``.

Neither is committed (the text belongs to the tools and to Python); this script regenerates
them deterministically on any machine with the same tools and Python 3.11::

    python -m bench.corpora.build cli-help /tmp/cli-help
    python -m bench.corpora.build pydoc /tmp/pydoc
"""

from __future__ import annotations

import argparse
import os
import pydoc
import shutil
import subprocess
import sys
from pathlib import Path

CLI_TOOLS = (
    "ls", "cp", "mv", "rm", "grep", "sed", "tar", "gzip", "find", "sort", "uniq", "wc", "head",
    "tail", "cut", "tr", "du", "df", "chmod", "chown", "ln", "touch", "date", "sleep", "xargs",
    "curl", "git", "diff", "patch", "make", "kill", "free", "uname", "env", "nohup", "timeout",
    "tee", "basename", "dirname", "realpath", "stat", "file", "zip", "unzip", "split", "join",
    "paste", "comm", "md5sum", "sha256sum", "base64", "od", "strings", "nl", "fold", "fmt",
    "seq", "shuf", "watch", "iconv", "lsof", "ss", "mount", "jq", "openssl", "gpg", "cat",
    "mkdir", "rmdir", "tac", "truncate", "shred", "nproc", "id", "mktemp", "readlink", "dd",
    "csplit", "numfmt", "chgrp", "nice", "pgrep", "pkill", "uptime", "who", "lsblk", "printenv",
    "expand", "cksum", "install", "sync", "hostname", "less", "top",
)  # fmt: skip
PYDOC_MODULES = (
    "argparse", "json", "csv", "datetime", "pathlib", "shutil", "subprocess", "re", "logging",
    "collections", "itertools", "functools", "heapq", "bisect", "random", "statistics",
    "decimal", "fractions", "math", "hashlib", "hmac", "secrets", "base64", "zipfile",
    "tarfile", "gzip", "sqlite3", "urllib.parse", "http.server", "socket", "ssl", "threading",
    "multiprocessing", "asyncio", "concurrent.futures", "queue", "sched", "time", "calendar",
    "zoneinfo", "tempfile", "glob", "fnmatch", "difflib", "textwrap", "string", "unicodedata",
    "struct", "array", "copy", "pprint", "enum", "dataclasses", "typing", "abc", "contextlib",
    "weakref", "gc", "inspect", "traceback", "unittest", "doctest", "timeit", "cProfile",
    "pickle", "shelve", "configparser", "tomllib", "xml.etree.ElementTree", "html.parser",
    "email.message", "smtplib", "uuid", "ipaddress", "platform", "getpass", "locale",
    "gettext", "operator", "signal", "mmap", "codecs", "io", "os.path", "filecmp", "graphlib",
)  # fmt: skip
PYDOC_CHARS = 6000


def cli_help(out: Path) -> int:
    env = dict(os.environ, LC_ALL="C", COLUMNS="100", MANWIDTH="100")
    written = 0
    for tool in CLI_TOOLS:
        if shutil.which(tool) is None:
            continue
        result = subprocess.run(
            [tool, "--help"], capture_output=True, text=True, env=env, timeout=10, check=False
        )
        text = (result.stdout or result.stderr).strip()
        if len(text) < 100:
            continue
        (out / f"{tool}.md").write_text(f"# {tool}\n\n```\n{text}\n```\n", encoding="utf-8")
        written += 1
    return written


def pydoc_pages(out: Path) -> int:
    written = 0
    for name in PYDOC_MODULES:
        module = pydoc.locate(name)
        if module is None:
            continue
        text = pydoc.plain(pydoc.render_doc(module, renderer=pydoc.plaintext))
        text = text[:PYDOC_CHARS].rsplit("\n", 1)[0]
        (out / f"{name}.md").write_text(f"# {name}\n\n{text}\n", encoding="utf-8")
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", choices=("cli-help", "pydoc"))
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    count = cli_help(args.out) if args.corpus == "cli-help" else pydoc_pages(args.out)
    print(f"{count} pages in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
