"""Build small retrieval corpora from what is installed, for calibrating and checking the
rerank blend on text unlike SciFact and the Kubernetes docs.

- ``cli-help``: one markdown page per command-line tool, its ``--help`` output (short,
  terse, option lists). Queries and judgements: ``tests/data/cli-help/``.
- ``pydoc``: one page per Python standard-library module, the first part of its ``pydoc``
  text (prose docstrings and signatures). Queries and judgements: ``tests/data/pydoc/``.
- ``man5``: one page per section-5 man page (configuration files and formats), the first
  part of its rendered plain text. Queries and judgements: ``tests/data/man5/``.
- ``pkg-readme``: one page per installed Python distribution (PKG_README_DISTS), the first
  part of its long description (README prose). Depends on the installed versions, so
  build it with the project's virtual environment. Queries and judgements:
  ``tests/data/pkg-readme/``.

None is committed (the text belongs to the tools, to Python and to the man pages' authors);
this script regenerates them deterministically on any machine with the same tools, Python 3.11
and man pages (Debian bookworm, man-db)::

    python -m bench.corpora.build cli-help /tmp/cli-help
    python -m bench.corpora.build pydoc /tmp/pydoc
    python -m bench.corpora.build man5 /tmp/man5
    python -m bench.corpora.build pkg-readme /tmp/pkg-readme
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import pydoc
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
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
MAN5_DIR = Path("/usr/share/man/man5")
MAN5_PAGES = (
    "Compose.5", "Xsession.5", "access.conf.5", "acct.5", "adduser.conf.5", "adjtime_config.5",
    "apt.conf.5", "apt_auth.conf.5", "apt_preferences.5", "binfmt.d.5", "capability.conf.5",
    "config.5ssl", "core.5", "crypt.5", "deb-changelog.5", "deb-changes.5", "deb-src-control.5",
    "deb-substvars.5", "deb.5", "deb822.5", "deluser.conf.5", "dir_colors.5", "e2fsck.conf.5",
    "editrc.5edit", "elf.5", "environment.d.5", "ext4.5", "faillock.conf.5", "filesystems.5",
    "fonts-conf.5", "fstab.5", "gai.conf.5", "gitattributes.5", "githooks.5", "gitignore.5",
    "gitmailmap.5", "gitmodules.5", "gitrepository-layout.5", "gitweb.conf.5", "gshadow.5",
    "host.conf.5", "hostname.5", "hosts.5", "hosts.equiv.5", "init-d-script.5", "journald.conf.5",
    "ldap.conf.5", "limits.conf.5", "locale.5", "locale.conf.5", "localtime.5", "login.defs.5",
    "logind.conf.5", "machine-id.5", "machine-info.5", "magic.5", "manpath.5", "mke2fs.conf.5",
    "modules-load.d.5", "namespace.conf.5", "networkd.conf.5", "networks.5", "nsswitch.conf.5",
    "os-release.5", "pam.conf.5", "pam_env.conf.5", "passwd.5", "proc.5", "protocols.5",
    "pstore.conf.5", "resolv.conf.5", "rpc.5", "services.5", "shadow.5", "slabinfo.5",
    "sources.list.5", "ssh_config.5", "subgid.5", "subuid.5", "sysctl.conf.5", "sysctl.d.5",
    "sysfs.5", "systemd-sleep.conf.5", "systemd-system.conf.5", "systemd.automount.5",
    "systemd.device.5", "systemd.dnssd.5", "systemd.exec.5", "systemd.kill.5", "systemd.mount.5",
    "systemd.netdev.5", "systemd.network.5", "systemd.path.5", "systemd.preset.5",
    "systemd.resource-control.5", "systemd.scope.5", "systemd.service.5", "systemd.slice.5",
    "systemd.socket.5", "systemd.swap.5", "systemd.target.5", "systemd.timer.5", "systemd.unit.5",
    "sysusers.d.5", "terminal-colors.d.5", "terminfo.5", "timesyncd.conf.5", "tmpfiles.d.5",
    "tmpfs.5", "tzfile.5", "ucf.conf.5", "user@.service.5", "utmp.5", "x509v3_config.5ssl",
)  # fmt: skip
MAN5_CHARS = 6000
_TERMINAL_FORMATTING = re.compile(r"\x1b\[[0-9;]*m|.\x08")
# Distributions whose long description is mostly prose (not a badge list or a link);
# Docent itself, model-bundling packages and near-copies (httpx2, httpcore2) are left out.
PKG_README_DISTS = (
    "accelerate", "aiohttp", "aiohttp-retry", "aiosignal", "alt-profanity-check", "annotated-doc",
    "annotated-types", "anyio", "attrs", "bitsandbytes", "bm25s", "charset-normalizer", "click",
    "cloudpickle", "condense-json", "diskcache", "einops", "events", "faiss-cpu", "fastapi",
    "fonttools", "frozenlist", "fsspec", "gguf", "graphql-core", "h11", "helm-python-sdk",
    "httpcore", "httpx", "huggingface-hub", "hypothesis", "hypothesis-graphql", "idna",
    "iniconfig", "jinja2", "joblib", "jsonpatch", "jsonschema", "jsonschema-rs", "kernels",
    "kmock", "kubernetes-validate", "llama-cpp-python", "llm", "markdown-it-py", "markupsafe",
    "matplotlib", "msgpack", "multidict", "narwhals", "ninja", "numpy", "oauthlib", "openai",
    "opentelemetry-instrumentation", "packaging", "pathspec", "peft", "pillow", "propcache",
    "psutil", "puremagic", "pydantic", "pyparsing", "pypdf", "pyrate-limiter", "pysocks", "pytest",
    "pytest-asyncio", "python-dateutil", "python-dotenv", "python-multipart", "python-ulid",
    "rank-bm25", "rapidfuzz", "redis", "regex", "requests", "requests-oauthlib", "rich", "ruff",
    "schemathesis", "scikit-learn", "selenium", "sentence-transformers", "sentencepiece",
    "shellingham", "sniffio", "sortedcontainers", "sqlite-utils", "starlette", "sympy", "tabulate",
    "threadpoolctl", "tokenizers", "tomlkit", "torch", "tqdm", "transformers", "trio",
    "trio-websocket", "truststore", "typer", "urllib3", "uvicorn", "websocket-client", "werkzeug",
    "wrapt", "wsproto", "yarl",
)  # fmt: skip
PKG_README_CHARS = 6000


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


def man5_doc_name(page: str) -> str:
    """Document name of a man5 page: ``fstab.5`` -> ``fstab``, ``config.5ssl`` -> ``config-ssl``."""
    name, section = page.rsplit(".", 1)
    suffix = section.removeprefix("5")
    return f"{name}-{suffix}" if suffix else name


def render_man(path: Path) -> str:
    """Plain text of one man page: 80 columns, not hyphenated or justified, no bold/colour."""
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    env.pop("MAN_KEEP_FORMATTING", None)
    result = subprocess.run(
        ["man", "--nh", "--nj", "-P", "cat", "-l", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return _TERMINAL_FORMATTING.sub("", result.stdout).strip()


def man5_pages(out: Path) -> int:
    """Write the first MAN5_CHARS of each installed MAN5_PAGES page; skip (and say) missing ones."""
    if shutil.which("man") is None:
        raise SystemExit("man5 needs man-db's `man` (apt-get install man-db)")
    written = 0
    for page in MAN5_PAGES:
        path = MAN5_DIR / f"{page}.gz"
        if not path.is_file():
            print(f"skipped {page}: not installed ({path})", file=sys.stderr)
            continue
        name = man5_doc_name(page)
        text = render_man(path)[:MAN5_CHARS].rsplit("\n", 1)[0]
        (out / f"{name}.md").write_text(f"# {name}\n\n{text}\n", encoding="utf-8")
        written += 1
    return written


def long_description(dist: importlib.metadata.Distribution) -> str:
    """A distribution's long description: the METADATA body, or the older Description field."""
    description = dist.metadata.json.get("description", "")
    text = description if isinstance(description, str) else "\n".join(description)
    return text.replace("\r\n", "\n").strip()


def pkg_readme_pages(out: Path) -> int:
    """Write the first PKG_README_CHARS of each PKG_README_DISTS description; skip missing ones."""
    written = 0
    for name in PKG_README_DISTS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            print(f"skipped {name}: not installed", file=sys.stderr)
            continue
        text = long_description(dist)
        if len(text) > PKG_README_CHARS:
            text = text[:PKG_README_CHARS].rsplit("\n", 1)[0]
        (out / f"{name}.md").write_text(f"# {name}\n\n{text}\n", encoding="utf-8")
        written += 1
    return written


BUILDERS: dict[str, Callable[[Path], int]] = {
    "cli-help": cli_help,
    "pydoc": pydoc_pages,
    "man5": man5_pages,
    "pkg-readme": pkg_readme_pages,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", choices=tuple(BUILDERS))
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    count = BUILDERS[args.corpus](args.out)
    print(f"{count} pages in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
