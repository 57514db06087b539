"""The text-classification member installs from its own files and really runs, offline, on CPU.

Installed once per session into a fresh venv from its pinned requirements.txt (torch's CPU
wheel, Transformers, tokenizers, safetensors, Accelerate and MLflow from the package index; it
is rendered with `tracking: mlflow`, so this one install runs the tracking option too), then
its own test suite, its notebook and its train script run with HF_HUB_OFFLINE=1 and an empty
Hugging Face cache: nothing downloads. The demo's tiny-bert is made fresh in a folder of this
session. Speed is measured in benchmarks/, not asserted here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from support import InstalledRepo, quickstart_outputs

pytestmark = pytest.mark.slow

ACCURACY_TARGET = 0.95  # measured: 1.000 on the demo's 80 test sentences (they are easy)


@pytest.fixture(scope="session")
def text_installed(installations) -> InstalledRepo:
    return installations("text-classification")


@pytest.fixture(scope="session")
def offline(tmp_path_factory) -> dict[str, str]:
    """The environment of every run here: no Hub, an empty Hugging Face cache, a fresh
    folder for tiny-bert."""
    root = tmp_path_factory.mktemp("offline")
    return {
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(root / "huggingface"),
        "TUTORIAL_CACHE": str(root / "tutorial-cache"),
    }


@pytest.fixture(scope="session")
def full_runs(text_installed, offline, tmp_path_factory) -> tuple[Path, Path]:
    """Two full-config training runs (same seed), made once per session."""
    root = tmp_path_factory.mktemp("text-runs")
    folders = []
    for name in ("first", "second"):
        done = text_installed.run(
            "-m",
            f"{text_installed.package}.train",
            "--quiet",
            "--runs-dir",
            str(root / name),
            **offline,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", f"the train script printed noise:\n{done.stderr}"
        (run_dir,) = (root / name).iterdir()
        folders.append(run_dir)
    return folders[0], folders[1]


def test_text_repo_test_suite_passes_offline_with_its_notebook_and_the_hub_path(
    text_installed, offline
):
    done = text_installed.run("-m", "pytest", "-v", "-p", "no:cacheprovider", **offline)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"notebooks/01-quickstart\.ipynb::01-quickstart\.ipynb PASSED", output), output
    for test in (
        "test_same_seed_gives_identical_metrics",
        "test_hub_path_prefetches_then_trains_offline_from_the_cache",
        "test_model_learns_a_small_training_set",
        "test_splits_are_disjoint_and_sized_as_configured",
        "test_smoke_runs_log_nowhere",
        "test_a_run_is_logged_beside_the_run_folders",
        "test_a_run_keeps_its_config_and_model",
    ):
        assert f"{test} PASSED" in output, output
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary


def test_full_config_meets_accuracy_target_and_repeats_bit_for_bit(full_runs):
    first, second = full_runs
    metrics = json.loads((first / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= ACCURACY_TARGET
    assert metrics["epochs"] == len(metrics["history"]) == 10
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()
    assert (first / "config.yaml").read_bytes() == (second / "config.yaml").read_bytes()
    versions = json.loads((first / "versions.json").read_text())
    assert {"torch", "transformers", "numpy", "scikit-learn"} <= set(versions)
    assert json.loads((first / "run.json").read_text())["device"] == "cpu"


def test_notebook_executes_offline_without_log_noise(text_installed, offline, tmp_path):
    """Executed with nbclient in the repo's own venv: no warnings greet the reader."""
    executed = tmp_path / "executed.ipynb"
    outputs = quickstart_outputs(text_installed, executed, TUTORIAL_PROFILE="smoke", **offline)
    texts = "".join("".join(out.get("text", "")) for out in outputs)
    assert "Epoch 1/3" in texts and "test accuracy" in texts and "tokens:" in texts
    assert not re.search(r"warning|deprecat", texts, re.IGNORECASE), texts


READ_BACK = """
import json, sys
from mlflow import MlflowClient

client = MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2])
runs = []
for run in client.search_runs([experiment.experiment_id]):
    runs.append({
        "name": run.info.run_name,
        "metrics": run.data.metrics,
        "params": run.data.params,
        "artifacts": sorted(item.path for item in client.list_artifacts(run.info.run_id)),
        "model": sorted(item.path for item in client.list_artifacts(run.info.run_id, "model")),
    })
print(json.dumps(runs))
"""


def test_full_runs_are_read_back_through_mlflow(text_installed, full_runs):
    """The default config logs each run to mlflow.db beside the run folders; MLflow's own
    client, in the repo's venv, reads both runs back: parameters, metrics, config, model."""
    first, second = full_runs
    store = first.parent.parent / "mlflow.db"
    assert store.is_file()
    done = text_installed.run("-c", READ_BACK, f"sqlite:///{store}", text_installed.package)
    assert done.returncode == 0, done.stderr
    runs = {run["name"]: run for run in json.loads(done.stdout)}
    assert set(runs) == {first.name, second.name}
    for run_dir in (first, second):
        logged, scores = runs[run_dir.name], json.loads((run_dir / "metrics.json").read_text())
        assert logged["metrics"]["test_accuracy"] == scores["test_accuracy"]
        assert logged["metrics"]["val_accuracy"] == scores["history"][-1]["val_accuracy"]
        assert logged["params"]["model.checkpoint"] == "tiny-bert"
        assert logged["params"]["train.epochs"] == "10"
        assert logged["artifacts"] == ["config.yaml", "model"]
        assert {"model/config.json", "model/model.safetensors", "model/tokenizer.json"} <= set(
            logged["model"]
        )


def test_mlflow_ui_serves_the_logged_runs(text_installed, full_runs):
    """`mlflow ui --backend-store-uri sqlite:///mlflow.db`, as the generated README says, run
    in the folder of the store: its REST API on 127.0.0.1 lists both runs. Bounded: at most
    90 s of polling, then the server's process group is ended."""
    first, _ = full_runs
    folder = first.parent.parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mlflow = str(text_installed.python.parent / "mlflow")
    server = subprocess.Popen(
        [mlflow, "ui", "--backend-store-uri", "sqlite:///mlflow.db", "--port", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/2.0/mlflow"
    try:
        experiment = None
        deadline = time.monotonic() + 90
        while experiment is None and time.monotonic() < deadline:
            try:
                query = f"experiment_name={text_installed.package}"
                with urllib.request.urlopen(f"{base}/experiments/get-by-name?{query}") as reply:
                    experiment = json.load(reply)["experiment"]
            except OSError:
                time.sleep(1)
        assert experiment is not None, "mlflow ui did not answer within 90 s"
        search = json.dumps({"experiment_ids": [experiment["experiment_id"]]}).encode()
        request = urllib.request.Request(
            f"{base}/runs/search", data=search, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request) as reply:
            runs = json.load(reply)["runs"]
        assert len(runs) == 2
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
