"""The model store (the runtime's only view of trained models) and the runtime/tooling split."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from apps.sentiment import store


def test_latest_points_only_at_a_finished_model(tmp_path: Path) -> None:
    assert store.latest_model_dir(tmp_path) is None  # nothing trained yet
    half = tmp_path / "v1"
    half.mkdir()
    store.latest_point(tmp_path, "v1")
    assert store.latest_model_dir(tmp_path) is None  # no meta.json: half-written, never picked up
    store.meta_write(half, {"name": "m", "version": "v1"})
    assert store.latest_model_dir(tmp_path) == half
    assert store.meta_read(half) == {"name": "m", "version": "v1"}
    done = tmp_path / "v2"
    done.mkdir()
    store.meta_write(done, {"name": "m", "version": "v2"})
    store.latest_point(tmp_path, "v2")
    assert store.latest_model_dir(tmp_path) == done
    assert not list(tmp_path.glob(".*.tmp"))  # the pointer was renamed into place


def test_a_worker_never_loads_the_training_tooling() -> None:
    """What the sentiment worker imports and runs to score, with no training module in memory."""
    code = (
        "import sys, django; django.setup();"
        "import tasks, tasks.consumers.sentiment;"
        "from apps.sentiment.selectors import scorer_choose; scorer_choose();"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('apps.sentiment.training'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout
