"""parse_markdown: what survives cleaning is what a reader of the rendered page would see."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from docentlib.documents.parsers.markdown import parse_markdown
from docentlib.documents.parsers.shortcodes import DROPPED


def parse(raw: str, source_path: str = "concepts/example.md"):
    return parse_markdown(raw, source_path=source_path, doc_id="example")


def test_front_matter_removed_and_title_taken() -> None:
    raw = "---\ntitle: Deployments\nweight: 10\ndescription: >-\n  Manages Pods.\n---\n\nBody.\n"
    doc = parse(raw)
    assert doc.title == "Deployments"
    assert doc.text == "Body."
    assert doc.doc_id == "example" and doc.source_path == "concepts/example.md"


def test_unparseable_front_matter_still_yields_its_title() -> None:
    doc = parse("---\ntitle: Broken: yes: no\n  - [\n---\nBody.\n")
    assert doc.title == "Broken: yes: no"
    assert doc.text == "Body."


def test_title_falls_back_to_first_h1_outside_code() -> None:
    raw = "```shell\n# not a title\n```\n\n## Sub\n\n# Real Title ##\n\ntext\n"
    assert parse(raw).title == "Real Title"


@pytest.mark.parametrize(
    ("source_path", "title"),
    [
        ("reference/kubeadm_token_list.md", "Kubeadm token list"),
        ("tasks/debug-pods.md", "Debug pods"),
        ("reference/kubeadm_init/_index.md", "Kubeadm init"),
    ],
)
def test_title_falls_back_to_readable_file_name(source_path: str, title: str) -> None:
    assert parse("Just text.\n", source_path).title == title


def test_content_hash_is_sha256_of_raw_text() -> None:
    raw = "---\ntitle: T\n---\nBody.\n"
    assert parse(raw).content_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert parse(raw).content_hash != parse(raw + " ").content_hash


def test_crlf_and_bom_are_normalised() -> None:
    doc = parse("\ufeff---\r\ntitle: T\r\n---\r\nLine one.\r\n\r\nLine two.\r\n")
    assert doc.title == "T"
    assert doc.text == "Line one.\n\nLine two."


def test_glossary_tooltip_keeps_its_text() -> None:
    raw = (
        'Updates for {{< glossary_tooltip text="Pods" term_id="pod" >}} and\n'
        '{{< glossary_tooltip term_id="replica-set" text="ReplicaSets" >}}; the Deployment '
        '{{< glossary_tooltip term_id="controller" >}} acts, as a '
        '{{< glossary_tooltip text="static Pod"\n'
        'term_id="static-pod" >}} would.\n'
    )
    assert parse(raw).text == (
        "Updates for Pods and\nReplicaSets; the Deployment controller acts, as a static Pod would."
    )


def test_dropped_shortcodes_leave_no_blank_gaps() -> None:
    raw = (
        "Before.\n\n"
        '{{< glossary_definition term_id="pod" length="short" >}}\n\n'
        '{{% code_sample file="controllers/nginx-deployment.yaml" %}}\n\n'
        '{{< codenew file="pods/simple-pod.yaml" >}}\n'
        '{{< include "task-tutorial-prereqs.md" >}} {{< version-check >}}\n\n'
        "After.\n"
    )
    assert parse(raw).text == "Before.\n\nAfter."


@pytest.mark.parametrize(
    ("open_tag", "close_tag"),
    [
        ("{{< note >}}", "{{< /note >}}"),
        ("{{% warning %}}", "{{% /warning %}}"),
        ("{{< caution >}}", "{{< /caution >}}"),
        ('{{< alert color="info" title="Note" >}}', "{{< /alert >}}"),
    ],
)
def test_paired_shortcodes_are_unwrapped(open_tag: str, close_tag: str) -> None:
    raw = f"Intro.\n\n{open_tag}\nDo not manage ReplicaSets owned by a Deployment.\n{close_tag}\n"
    assert parse(raw).text == "Intro.\n\nDo not manage ReplicaSets owned by a Deployment."


def test_tabs_keep_content_and_tab_names() -> None:
    raw = (
        '{{< tabs name="install" >}}\n'
        '{{% tab name="Linux" %}}\nUse apt.\n{{% /tab %}}\n'
        '{{% tab name="Windows" %}}\nUse choco.\n{{% /tab %}}\n'
        "{{< /tabs >}}\n"
    )
    text = parse(raw).text
    assert "{{" not in text
    assert text.index("Linux") < text.index("Use apt.") < text.index("Windows")
    assert text.index("Windows") < text.index("Use choco.")


def test_tab_with_codelang_becomes_a_code_fence() -> None:
    raw = (
        '   {{< tab name="x86-64" codelang="bash" >}}\n'
        "   curl -LO https://dl.k8s.io/kubectl\n"
        "   {{< /tab >}}\n"
    )
    assert parse(raw).text == (
        "   **x86-64**\n   ```bash\n   curl -LO https://dl.k8s.io/kubectl\n   ```"
    )


def test_highlight_becomes_fence_or_inline_code() -> None:
    raw = (
        '{{< highlight yaml "linenos=false,hl_lines=2-5" >}}\n# CAUTION\nkind: Pod\n'
        "{{< /highlight >}}\n\n"
        'Monitor {{< highlight promql "hl_inline=true" >}}sum(x){{< /highlight >}} often.\n'
    )
    assert parse(raw).text == "```yaml\n# CAUTION\nkind: Pod\n```\n\nMonitor `sum(x)` often."


def test_headings_feature_state_and_versions_render_readably() -> None:
    raw = (
        '## {{% heading "whatsnext" %}}\n\n'
        '{{< feature-state for_k8s_version="v1.24" state="stable" >}}\n\n'
        "Kubernetes v{{< skew currentVersion >}} and v{{< skew currentVersionAddMinor -1 >}}; "
        'docs {{< param "version" >}}.\n'
    )
    assert parse(raw).text == (
        "## What's next\n\nFEATURE STATE: Kubernetes v1.24 [stable]\n\n"
        "Kubernetes v<currentVersion> and v<currentVersion-1>; docs <version>."
    )


def test_comment_shortcode_block_and_html_comments_removed() -> None:
    raw = (
        "<!-- overview -->\n\nKept one.\n\n"
        "{{< comment >}}\nTODO: hidden\n{{< /comment >}}\n\n"
        "Kept <!-- inline --> two.\n\n"
        "<!--\nmulti-line\n```yaml\nkind: Hidden\n```\n-->\n\n"
        "Kept three.\n"
    )
    # prose around a removed inline comment is left as it was (two spaces), not rewritten
    assert parse(raw).text == "Kept one.\n\nKept  two.\n\nKept three."


def test_code_fences_are_kept_verbatim() -> None:
    fence = (
        "```shell\n"
        "# Roll back to the previous revision\n"
        "kubectl rollout undo deployment/nginx-deployment\n"
        "\n\n\n"
        "<!-- this is shell output, not a comment to strip -->\n"
        "```"
    )
    doc = parse(f"Run:\n\n{fence}\n\nDone.\n")
    assert fence in doc.text


def test_escaped_shortcodes_render_literally() -> None:
    doc = parse("Use `{{</* note */>}}` for notes.\n")
    assert doc.text == "Use `{{< note >}}` for notes."


def test_real_deployment_page(k8s_docs: Path) -> None:
    raw = (k8s_docs / "concepts/workloads/controllers/deployment.md").read_text()
    doc = parse_markdown(raw, "concepts/workloads/controllers/deployment.md", "deployment")
    assert doc.title == "Deployments"
    assert doc.text.startswith(
        "A _Deployment_ provides declarative updates for Pods and\nReplicaSets."
    )
    assert "kubectl rollout undo deployment/nginx-deployment" in doc.text
    assert "## Rolling Back a Deployment" in doc.text
    for leftover in ("{{", "<!--", "reviewers:", "\n\n\n", DROPPED):
        assert leftover not in doc.text


def test_real_pages_keep_no_shortcode_syntax(k8s_docs: Path) -> None:
    # Only the pages that document shortcodes (escaped, so shown literally) may contain them.
    teaching = ("contribute/", "test.md")
    for path in sorted(k8s_docs.rglob("*.md")):
        rel = path.relative_to(k8s_docs).as_posix()
        doc = parse_markdown(path.read_text(encoding="utf-8", errors="replace"), rel, rel)
        assert DROPPED not in doc.text, rel
        assert doc.title.strip(), rel
        if not rel.startswith(teaching):
            assert "{{<" not in doc.text and "{{%" not in doc.text, rel
