"""Hugo shortcodes, rendered to the plain markdown a reader of the Kubernetes website sees.

Shortcodes carry text a reader would see (``glossary_tooltip``'s ``text``), wrap content that
must survive (``note``, ``tabs``) or pull in content from elsewhere that we cannot resolve
(``include``, ``code_sample``). Tags we drop become :data:`DROPPED` so the caller can delete
lines that held nothing else instead of leaving ragged blank space.
"""

from __future__ import annotations

import re
from collections.abc import Callable

DROPPED = "\x00"  # marks where a shortcode was removed; never present in returned documents

_SHORTCODE = re.compile(
    # Escaped shortcodes ({{</* note */>}}) document shortcodes and render literally.
    r"\{\{(?P<eo>[<%])/\*(?P<escaped>.*?)\*/(?P<ec>[>%])\}\}"
    r"|\{\{[<%]-?\s*(?P<close>/)?\s*(?P<name>[\w./-]+)(?P<args>.*?)\s*/?\s*-?[>%]\}\}",
    re.DOTALL,
)
_COMMENT_BLOCK = re.compile(
    r"\{\{[<%]\s*comment\s*[>%]\}\}.*?\{\{[<%]\s*/comment\s*[>%]\}\}", re.DOTALL
)
_ARG = re.compile(r"""(?:([\w-]+)\s*=\s*)?(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|`([^`]*)`|(\S+))""")

# What Hugo's i18n strings render {{% heading "..." %}} as on the English site.
_HEADINGS = {
    "whatsnext": "What's next",
    "prerequisites": "Before you begin",
    "objectives": "Objectives",
    "cleanup": "Cleaning up",
    "synopsis": "Synopsis",
    "options": "Options",
    "parentoptions": "Options inherited from parent commands",
    "seealso": "See Also",
    "examples": "Examples",
    "envvars": "Environment variables",
}
# Shortcodes that stand for a site-wide version number we do not know: keep a visible
# placeholder so "Kubernetes v{{< skew currentVersion >}}" does not silently become "v".
_VERSION_CODES = {"skew", "param", "latest-version", "latest-semver", "release-branch"}


def _parse_args(raw: str) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    named: dict[str, str] = {}
    for match in _ARG.finditer(raw):
        key = match.group(1)
        value = next((g for g in match.group(2, 3, 4, 5) if g is not None), "")
        if key:
            named[key] = value
        else:
            positional.append(value)
    return positional, named


def _version_placeholder(name: str, positional: list[str]) -> str:
    if name == "skew" and positional:
        if positional[0] == "currentVersionAddMinor" and len(positional) > 1:
            try:
                delta = int(positional[1])
            except ValueError:
                return f"<{positional[0]} {positional[1]}>"
            return f"<currentVersion{delta:+d}>" if delta else "<currentVersion>"
        return f"<{positional[0]}>"
    if name == "param" and positional:
        return f"<{positional[0]}>"
    return f"<{name}>"


class _Renderer:
    """Renders one document's shortcodes; stateful because closers depend on their opener."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.closers: dict[str, list[str]] = {}  # name -> replacement for the pending closers

    # -- helpers -------------------------------------------------------------------------
    def _indent(self, start: int) -> str | None:
        """The whitespace before ``start`` on its line, or None if other text precedes it."""
        line_start = self.text.rfind("\n", 0, start) + 1
        prefix = self.text[line_start:start]
        return prefix if not prefix.strip() else None

    def _fence(self, match: re.Match[str], lang: str) -> str:
        """An opening fence on a line of its own, whatever surrounded the tag."""
        indent = self._indent(match.start())
        before = "" if indent is not None else "\n"
        after = "" if self.text.startswith("\n", match.end()) else "\n" + (indent or "")
        return f"{before}```{lang}{after}"

    def _closing_fence(self, match: re.Match[str]) -> str:
        indent = self._indent(match.start())
        before = "" if indent is not None else "\n"
        after = "" if self.text.startswith("\n", match.end()) else "\n"
        return f"{before}```{after}"

    def _push(self, name: str, closer: str) -> None:
        self.closers.setdefault(name, []).append(closer)

    # -- dispatch ------------------------------------------------------------------------
    def __call__(self, match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "{{" + match.group("eo") + match.group("escaped") + match.group("ec") + "}}"
        name = match.group("name")
        if match.group("close"):
            pending = self.closers.get(name)
            closer = pending.pop() if pending else DROPPED
            return self._closing_fence(match) if closer == "```" else closer
        positional, named = _parse_args(match.group("args"))
        handler = _HANDLERS.get(name)
        if handler is not None:
            return handler(self, match, positional, named)
        if name in _VERSION_CODES:
            return _version_placeholder(name, positional)
        return DROPPED  # note, caution, tabs, include, code_sample, version-check, ...


def _glossary_tooltip(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    return kw.get("text") or kw.get("term_id", "").replace("-", " ").replace("_", " ") or DROPPED


def _linked_text(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    return kw.get("text") or kw.get("page") or DROPPED


def _ref(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    return pos[0] if pos else DROPPED  # used as a link target: [text]({{< ref "path" >}})


def _heading(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    key = pos[0] if pos else ""
    return _HEADINGS.get(key, key.replace("_", " ").capitalize()) or DROPPED


def _feature_state(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    version, state, gate = kw.get("for_k8s_version"), kw.get("state"), kw.get("feature_gate_name")
    if version or state:
        parts = [f"Kubernetes {version}" if version else "", f"[{state}]" if state else ""]
        return "FEATURE STATE: " + " ".join(p for p in parts if p)
    return f"FEATURE STATE: feature gate `{gate}`" if gate else DROPPED


def _figure(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    return kw.get("caption") or kw.get("title") or kw.get("alt") or DROPPED


def _highlight(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    lang = pos[0] if pos else kw.get("lang", "")
    options = " ".join(pos[1:]) + " " + kw.get("options", "")
    if "hl_inline=true" in options.replace(" ", ""):
        r._push("highlight", "`")
        return "`"
    r._push("highlight", "```")
    return r._fence(m, lang)


def _mermaid(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    r._push("mermaid", "```")
    return r._fence(m, "mermaid")


def _tab(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
    """A tab's name says which variant its content is for (Linux, Windows, ...): keep it."""
    if "include" in kw:  # self-closing, content lives in another file
        return DROPPED
    label = f"**{kw['name']}**" if kw.get("name") else ""
    if kw.get("codelang") is not None:  # the tab body is raw code
        r._push("tab", "```")
        fence = r._fence(m, kw["codelang"])
        if not label:
            return fence
        indent = r._indent(m.start())
        return f"{label}\n{indent}{fence}" if indent is not None else f"{label}{fence}"
    r._push("tab", DROPPED)
    return label or DROPPED


def _labelled(key: str) -> Callable[[_Renderer, re.Match[str], list[str], dict[str, str]], str]:
    """Paired shortcodes whose attribute is visible text (details summary, table caption)."""

    def render(r: _Renderer, m: re.Match[str], pos: list[str], kw: dict[str, str]) -> str:
        return f"**{kw[key]}**" if kw.get(key) else DROPPED

    return render


_HANDLERS: dict[str, Callable[[_Renderer, re.Match[str], list[str], dict[str, str]], str]] = {
    "glossary_tooltip": _glossary_tooltip,
    "api-reference": _linked_text,
    "link": _linked_text,
    "ref": _ref,
    "relref": _ref,
    "heading": _heading,
    "feature-state": _feature_state,
    "figure": _figure,
    "highlight": _highlight,
    "mermaid": _mermaid,
    "tab": _tab,
    "details": _labelled("summary"),
    "table": _labelled("caption"),
}


def render_shortcodes(text: str) -> str:
    """Replace every shortcode in ``text``; removed tags leave :data:`DROPPED` behind."""
    text = _COMMENT_BLOCK.sub(DROPPED, text)
    if "{{" not in text:
        return text
    return _SHORTCODE.sub(_Renderer(text), text)
