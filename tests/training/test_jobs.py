"""``docent train submit``: manifests that validate for Kubernetes 1.29-1.31, print for
``kubectl apply -f -``, and are created through the Kubernetes client on an in-memory API
server (kmock) on loopback with a kubeconfig this test writes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import kmock
import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from docent_cli.main import app
from docent_training.jobs import JobSpec, render
from tests.conftest import free_port
from tests.deploy.chart import KUBE_VERSIONS

runner = CliRunner()
CONFIG = "kind: sft\noutput_dir: /outputs/sft\ndata: {train: /outputs/data/train.jsonl}\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sft.yaml"
    path.write_text(CONFIG)
    return path


def dry_run(*args: str) -> list[dict]:
    result = runner.invoke(app, ["train", "submit", *args, "--dry-run"])
    assert result.exit_code == 0, result.output
    return [d for d in yaml.safe_load_all(result.output) if d]


@pytest.mark.parametrize("kube", KUBE_VERSIONS)
@pytest.mark.parametrize("gpus", [0, 1, 4, 16])
def test_manifests_validate_strictly(kube: str, gpus: int, config: Path) -> None:
    for obj in dry_run("sft", "--config", str(config), "--gpus", str(gpus)):
        try:
            kubernetes_validate.validate(obj, kube, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {err.message}")


def test_single_gpu_job(config: Path) -> None:
    cm, job = dry_run("sft", "--config", str(config), "--gpus", "1", "--name", "sft-a")
    assert cm["kind"] == "ConfigMap" and cm["data"]["sft.yaml"] == CONFIG
    spec = job["spec"]
    pod = spec["template"]["spec"]
    (c,) = pod["containers"]
    assert c["command"] == ["docent", "train", "sft", "--config", "/etc/docent/train/sft.yaml"]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"docent.io/node-pool": "gpu"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert pod["priorityClassName"] == "docent-training" and pod["restartPolicy"] == "Never"
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == ["docent-training"]
    assert spec["backoffLimit"] == 3 and spec["activeDeadlineSeconds"] == 24 * 3600
    assert "completionMode" not in spec


def test_multi_node_is_an_indexed_job_with_torchrun_rendezvous(config: Path) -> None:
    _, svc, job = dry_run("dpo", "--config", str(config), "--gpus", "16", "--name", "dpo-b")
    assert svc["kind"] == "Service" and svc["spec"]["clusterIP"] == "None"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == 2
    pod = spec["template"]["spec"]
    assert pod["subdomain"] == "dpo-b"
    assert svc["spec"]["selector"].items() <= spec["template"]["metadata"]["labels"].items()
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["MASTER_ADDR"]["value"] == "dpo-b-0.dpo-b"
    assert env["WORLD_SIZE"]["value"] == "2"
    assert "job-completion-index" in env["RANK"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert c["command"][:2] == ["torchrun", "--nproc_per_node=8"]
    assert "--node_rank=$(RANK)" in c["command"] and "--nnodes=$(WORLD_SIZE)" in c["command"]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "8"


def test_plan_json_fills_the_job(config: Path, tmp_path: Path) -> None:
    plan = runner.invoke(
        app, ["plan", "--params", "7B", "--gpus", "16", "--gpu-mem", "80", "--json"]
    )
    (tmp_path / "plan.json").write_text(plan.output)
    expected = json.loads(plan.output)["job"]
    *_, job = dry_run("sft", "--config", str(config), "--plan", str(tmp_path / "plan.json"))
    assert job["spec"]["completions"] == expected["nodes"] == 2
    assert job["spec"]["activeDeadlineSeconds"] == expected["active_deadline_seconds"]


def test_reranker_runs_as_the_same_kind_of_job() -> None:
    _, job = dry_run("reranker", "--gpus", "1", "--arg=--docs", "--arg=/outputs/docs")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["docent", "train", "reranker", "--docs", "/outputs/docs"]


def test_bad_requests_are_refused(config: Path, tmp_path: Path) -> None:
    cases = [
        (["train", "submit", "pretrain", "--config", str(config), "--dry-run"], "kind must be"),
        (["train", "submit", "sft", "--dry-run"], "needs --config"),
        (["train", "submit", "sft", "--config", str(tmp_path / "no.yaml")], "not found"),
        (["train", "submit", "sft", "--config", str(config), "--name", "Bad_Name"], "DNS label"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and message in result.output, result.output


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[tuple[kmock.KubernetesEmulator, Path]]:
    """kmock's Kubernetes emulator on 127.0.0.1 in a thread, and a kubeconfig pointing at it."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict = {}

    async def serve() -> None:
        box["stop"] = asyncio.Event()
        async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator) as server:
            box["emulator"], box["port"] = emulator, server.port
            ready.set()
            await box["stop"].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "kmock", "cluster": {"server": f"http://127.0.0.1:{box['port']}"}}
                ],
                "users": [{"name": "test", "user": {"token": "test"}}],
                "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "test"}}],
                "current-context": "kmock",
            }
        )
    )
    yield box["emulator"], kubeconfig
    loop.call_soon_threadsafe(box["stop"].set)
    thread.join(10)


def test_submit_creates_the_objects_through_the_api(api_server, config: Path) -> None:
    emulator, kubeconfig = api_server
    args = ["train", "submit", "sft", "--config", str(config), "--gpus", "16", "--name", "sft-live",
            "--namespace", "ml", "--kubeconfig", str(kubeconfig)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "job/sft-live" in result.output
    stored = {(key[0].plural, key[1], key[2]) for key in emulator.objects}
    assert stored == {("configmaps", "ml", "sft-live-config"), ("services", "ml", "sft-live"),
                      ("jobs", "ml", "sft-live")}  # fmt: skip
    from kubernetes import client
    from kubernetes import config as kconfig

    api = kconfig.new_client_from_config(config_file=str(kubeconfig))
    job = client.BatchV1Api(api).read_namespaced_job("sft-live", "ml")
    assert job.spec.completion_mode == "Indexed" and job.spec.completions == 2
    again = runner.invoke(app, args)  # the same name twice: a clear conflict, not a trace
    assert again.exit_code == 1 and "409" in again.output


def test_unreachable_api_is_a_clear_error(config: Path, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": f"http://127.0.0.1:{free_port()}"}}],
        "users": [{"name": "x", "user": {"token": "x"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
    }))  # fmt: skip
    result = runner.invoke(
        app, ["train", "submit", "sft", "--config", str(config), "--kubeconfig", str(kubeconfig)]
    )
    assert result.exit_code == 1 and "cannot reach the Kubernetes API" in result.output


def test_render_is_deterministic() -> None:
    spec = JobSpec(kind="sft", name="x", config_text="a: 1\n")
    assert render(spec) == render(spec)
