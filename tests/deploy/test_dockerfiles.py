"""Each service's Dockerfile follows the image rules: multi-stage, pinned bases, non-root, no
build tools or sources in the final stage, state and models on volumes; generation on vLLM."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from tests.deploy.chart import COMPONENTS
from tests.deploy.dockerfile import stages

PORTS = {
    "embedding": "50051 9101",
    "retrieval": "50052 9102",
    "reranking": "50053 9103",
    "moderation": "50054 9104",
    "generation": "50055 9105",
    "ingestion": "50056 9106",
    "gateway": "8080",
}
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|make|cmake|build-essential|git|cargo|rustc)\b")
PACKAGE_MANAGERS = re.compile(r"\b(apt-get|apt|apk|dnf|yum|microdnf)\s+(install|add)\b")
PINNED = re.compile(r"^[\w./-]+(:[\w.-]*\d[\w.-]*(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$")


@pytest.mark.parametrize("service", COMPONENTS)
def test_dockerfile_rules(service: str) -> None:
    built = stages(REPO / "services" / service / "Dockerfile")
    assert len(built) >= 2, "multi-stage"
    final = built[-1]
    for stage in built:
        assert PINNED.match(stage.base), f"unpinned base {stage.base}"
        assert not stage.base.endswith(":latest")
    # Final stage: only the built venv comes in, nothing from the build context.
    copies = final.all("COPY")
    assert copies and all(c.startswith("--from=") for c in copies), copies
    for run in final.all("RUN"):
        assert not PACKAGE_MANAGERS.search(run), run
        assert not BUILD_TOOLS.search(run), run
        assert "pip install" not in run, run
    assert not final.all("ADD")
    # Non-root: a numeric, non-zero uid as the last USER.
    user = final.all("USER")[-1]
    assert re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user), user
    # State on a volume, not in the image; ports and entry point as documented.
    env = " ".join(final.all("ENV"))
    assert "DOCENT_HOME=/var/lib/docent" in env
    assert "/var/lib/docent" in final.all("VOLUME")[0]
    assert final.all("EXPOSE") == [PORTS[service]]
    assert final.all("ENTRYPOINT") == [f'["python", "-m", "services.{service}"]']


@pytest.mark.parametrize("service", ["embedding", "generation"])
def test_packaged_models_are_optional(service: str) -> None:
    build = stages(REPO / "services" / service / "Dockerfile")[0]
    assert "WITH_DEFAULT_MODELS=1" in build.all("ARG")
    assert any('"$WITH_DEFAULT_MODELS" = 0' in r and "uninstall" in r for r in build.all("RUN"))
    assert "/models" in stages(REPO / "services" / service / "Dockerfile")[-1].all("VOLUME")[0]


def test_generation_builds_on_the_official_vllm_image() -> None:
    built = stages(REPO / "services" / "generation" / "Dockerfile")
    for stage in built:
        assert stage.base.startswith("vllm/vllm-openai:v"), stage.base
    # vLLM's own torch is reused: nothing installs another one.
    assert not any("torch" in r for r in built[0].all("RUN"))


@pytest.mark.parametrize("service", [s for s in COMPONENTS if s != "generation"])
def test_cpu_images_take_the_cpu_torch_wheel(service: str) -> None:
    build = stages(REPO / "services" / service / "Dockerfile")[0]
    torch = [r for r in build.all("RUN") if "torch==" in r]
    assert torch and "download.pytorch.org/whl/cpu" in torch[0]


def test_build_context_is_limited() -> None:
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert {"*", "!pyproject.toml", "!gen/", "!services/"} <= set(ignore)


def test_training_image_runs_non_root_on_a_pinned_cuda_base() -> None:
    text = (REPO / "training-jobs" / "Dockerfile").read_text()
    assert re.search(r"ARG TORCH_IMAGE=pytorch/pytorch:[0-9.]+-cuda[0-9.]+-cudnn[0-9]+-devel", text)
    assert "USER 10001:10001" in text and "/outputs" in text
    assert "!training-jobs/" in (REPO / ".dockerignore").read_text().splitlines()


@pytest.mark.parametrize("service", COMPONENTS)
def test_the_image_carries_every_package_the_service_imports(service: str) -> None:
    """Services import the generated stubs, the runtime and the library: all three are copied
    into the build stage (the image installs what it was given; a missing docentlib/ makes
    every service fail at import)."""
    build = stages(REPO / "services" / service / "Dockerfile")[0]
    copied = {c.split()[0].rstrip("/") for c in build.all("COPY") if not c.startswith("--from=")}
    assert {"gen", "docentlib", "services"} <= copied, copied
    ignore = (REPO / ".dockerignore").read_text().split()
    assert {"!gen/", "!docentlib/", "!services/"} <= set(ignore)
