"""parse_html: a page reads like the markdown it was rendered from, without the site chrome."""

from __future__ import annotations

import hashlib

import pytest

from docentlib.documents.parsers.html import decode_html, parse_html
from docentlib.errors import InvalidInput

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Pods &amp; Containers</title>
<style>p { color: red }</style><script>document.write("<p>injected</p>")</script></head>
<body><header><h1>Site name</h1></header>
<nav><ul><li>Home</li><li>Docs</li></ul></nav>
<main>
  <h1>Pods</h1>
  <p>A <b>Pod</b> is the
     smallest&nbsp;unit.<br>It holds &lt;containers&gt;.</p>
  <h2>Commands</h2>
  <pre><code>kubectl get pods
  -o wide</code></pre>
  <ul><li>Run <code>kubectl apply</code></li><li>Check status</li></ul>
  <table><tr><th>Field</th><th>Meaning</th></tr><tr><td>replicas</td><td>count</td></tr></table>
  <blockquote>Pods are ephemeral.</blockquote>
  <p># is a comment in YAML</p>
</main>
<aside>Related links</aside><footer>(c) The Authors</footer>
</body></html>"""


def parse(raw: bytes, source_path: str = "site/pods.html"):
    return parse_html(raw, source_path=source_path, doc_id="site/pods")


def test_page_becomes_headings_and_paragraphs_without_chrome() -> None:
    raw = PAGE.encode()
    doc = parse(raw)
    assert doc.title == "Pods & Containers"
    assert doc.text == (
        "# Pods\n\n"
        "A Pod is the smallest unit.\nIt holds <containers>.\n\n"
        "## Commands\n\n"
        "```\nkubectl get pods\n  -o wide\n```\n\n"
        "- Run `kubectl apply`\n\n- Check status\n\n"
        "Field | Meaning\n\nreplicas | count\n\n"
        "Pods are ephemeral.\n\n"
        "\\# is a comment in YAML"
    )
    for dropped in ("Site name", "Home", "injected", "color", "Related", "Authors"):
        assert dropped not in doc.text
    assert doc.content_hash == hashlib.sha256(raw).hexdigest()
    assert (doc.doc_id, doc.source_path) == ("site/pods", "site/pods.html")


def test_title_falls_back_to_first_h1_then_file_name() -> None:
    assert parse(b"<h2>Sub</h2><h1>Real title</h1><p>x</p>").title == "Real title"
    assert parse(b"<p>Just text</p>", "site/getting-started.htm").title == "getting-started"


def test_fence_survives_backticks_inside_pre() -> None:
    doc = parse(b"<pre>\nuse ```code``` here\n</pre>")
    assert doc.text == "````\nuse ```code``` here\n````"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ('<meta charset="windows-1252"><p>caf\xe9 \x80</p>'.encode("latin-1"), "caf\u00e9 \u20ac"),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=latin1"><p>\xe9</p>',
            "\u00e9",
        ),
        ("<p>\u00e9t\u00e9</p>".encode("utf-16"), "\u00e9t\u00e9"),
        (b"\xef\xbb\xbf<p>bom</p>", "bom"),
        (b'<meta charset="no-such-codec"><p>ok \xff</p>', "ok \ufffd"),
    ],
    ids=["meta-charset", "http-equiv", "utf16-bom", "utf8-bom", "unknown-charset"],
)
def test_encodings(raw: bytes, text: str) -> None:
    assert parse(raw).text == text


def test_decode_normalises_newlines() -> None:
    assert decode_html(b"<p>a</p>\r\n<p>b</p>\r") == "<p>a</p>\n<p>b</p>\n"


def test_page_without_text_is_refused_by_name() -> None:
    raw = b"<html><head><title>App</title><script>render()</script></head><body></body></html>"
    with pytest.raises(InvalidInput, match=r"^pods\.html: no readable text"):
        parse(raw)


def test_unclosed_and_stray_tags_do_not_lose_text() -> None:
    doc = parse(b"<p>one<p>two</div></span><li>three<h3>Four</h3>five")
    assert doc.text == "one\n\ntwo\n\n- three\n\n### Four\n\nfive"
