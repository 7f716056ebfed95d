"""Documentation prose for the safety classifier's benign class, from CPython's docstrings.

Retrieved passages are reference text: descriptions ("Path to a configuration file."),
imperative steps ("Call close() when done."), tables and flag lists. A classifier that only
saw questions as benign took such text for planted instructions (on 2026-12-07 it flagged
27 % of the chunks of Docent's own docs and of the Kubernetes docs as injected). These
sentences, and the same sentences inside the markup documentation wraps them in, teach it
that reference text is not an attempt on the assistant.

The source is the standard library's own docstrings (PSF licence), from modules that no
evaluation corpus uses (none of the pydoc retrieval set's modules; a test checks), grouped by
module so the classifier's dev split holds whole modules. The output is committed
(``doc_prose.jsonl``) so training does not depend on the Python patch release; regenerate::

    python -m docent_training.safety.doc_prose training-jobs/docent_training/safety/doc_prose.jsonl
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

DATA_FILE = Path(__file__).with_name("doc_prose.jsonl")
MODULES = (
    "optparse", "getopt", "shlex", "cmd", "pdb", "pstats", "trace", "tracemalloc",
    "faulthandler", "warnings", "atexit", "sysconfig", "pkgutil", "modulefinder", "runpy",
    "compileall", "py_compile", "dis", "ast", "symtable", "tokenize", "tabnanny", "pyclbr",
    "linecache", "netrc", "plistlib", "mailbox", "mimetypes", "binascii", "quopri", "html",
    "xml.dom.minidom", "xml.sax.handler", "webbrowser", "wsgiref.simple_server",
    "urllib.request", "http.client", "http.cookies", "http.cookiejar", "ftplib", "poplib",
    "imaplib", "socketserver", "xmlrpc.client", "selectors", "contextvars", "numbers", "cmath",
    "colorsys", "wave", "zlib", "bz2", "lzma", "stat", "fileinput", "errno", "reprlib", "types",
    "copyreg", "dbm", "logging.handlers", "logging.config", "importlib.resources", "zipapp",
    "venv", "ensurepip", "sqlite3.dbapi2", "email.utils", "email.parser", "email.policy",
    "json.decoder", "tkinter.ttk", "turtle", "code", "codeop",
)  # fmt: skip
MAX_PER_MODULE = 40
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")
_WORDS = re.compile(r"[A-Za-z]{2,}")
# How documentation presents a sentence: plain, in a table cell, a list item, a flag table.
WRAPPERS = (
    "{s}",
    '<tr> <td></td><td style="line-height: 130%; word-wrap: break-word;"><p>{s}</p></td> </tr>',
    "| `{name}` | {s} |",
    "- **{name}**: {s}",
    "--{flag} string\n    {s}",
    "{name}({args})\n    {s}",
    "> **Note:** {s}",
)


def _docstrings(module_name: str) -> Iterator[str]:
    """The module's docstring, then its own public functions', classes' and methods'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            module = importlib.import_module(module_name)
        except Exception:  # an optional module (tkinter, dbm.gnu) may be absent
            return
    if module.__doc__:
        yield module.__doc__
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if obj.__doc__ and (inspect.isfunction(obj) or inspect.isclass(obj)):
            yield obj.__doc__
        if inspect.isclass(obj):
            for attr, member in sorted(vars(obj).items()):
                if not attr.startswith("_") and inspect.isfunction(member) and member.__doc__:
                    yield member.__doc__


def _sentences(doc: str) -> Iterator[str]:
    """Prose sentences of a docstring: paragraphs joined, code and signatures left out."""
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(doc)):
        lines = paragraph.strip().splitlines()
        if not lines or lines[0].startswith((">>>", "    ", "-", "*", ":")):
            continue
        text = " ".join(line.strip() for line in lines)
        for sentence in _SENTENCE.split(text):
            sentence = sentence.strip()
            sized = 30 <= len(sentence) <= 240 and len(_WORDS.findall(sentence)) >= 5
            if sized and sentence.isascii() and sentence[0].isupper() and sentence[-1] in ".:)":
                yield sentence


def _pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % n


def build(modules: tuple[str, ...] = MODULES) -> list[dict[str, str]]:
    """Items ``{"text", "group"}``: up to :data:`MAX_PER_MODULE` sentences per module, each
    shown as written or inside one documentation wrapper (chosen by a hash: deterministic)."""
    items: list[dict[str, str]] = []
    seen: set[str] = set()
    for module_name in modules:
        found = list(dict.fromkeys(s for d in _docstrings(module_name) for s in _sentences(d)))
        found.sort(key=lambda s: hashlib.sha256(s.encode()).hexdigest())
        word = module_name.rsplit(".", 1)[-1]
        for sentence in found[:MAX_PER_MODULE]:
            if sentence.lower() in seen:
                continue
            seen.add(sentence.lower())
            wrapper = WRAPPERS[_pick(sentence, len(WRAPPERS))]
            text = wrapper.format(
                s=sentence, name=word, flag=word.replace("_", "-"), args="path, mode='r'"
            )
            items.append({"text": text, "group": module_name})
    return items


def load() -> list[dict[str, str]]:
    """The committed items (what the classifier is trained on)."""
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DATA_FILE
    items = build()
    out.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    groups = len({i["group"] for i in items})
    print(f"{len(items)} sentences from {groups} modules -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
