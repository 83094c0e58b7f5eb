"""The model store: where trained sentiment models live and which one is current.

A training run writes ``<out_root>/<version>/`` (model, tokenizer, ``model.int8.onnx``,
``meta.json``) and then points ``<out_root>/LATEST`` at it with one atomic rename, so a scorer never
picks up a half-written model. The runtime (``selectors.scorer_choose``) only reads here; the
training tooling (:mod:`apps.sentiment.training`) writes through :func:`latest_point`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LATEST = "LATEST"
META = "meta.json"


def latest_model_dir(out_root: Path) -> Path | None:
    """The model a finished run pointed ``LATEST`` at, or None if there is none (yet)."""
    pointer = out_root / LATEST
    try:
        version = pointer.read_text().strip()
    except OSError:
        return None
    model_dir = out_root / version
    return model_dir if (model_dir / META).is_file() else None


def meta_read(model_dir: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((model_dir / META).read_text())
    return meta


def meta_write(model_dir: Path, meta: dict[str, Any]) -> None:
    (model_dir / META).write_text(json.dumps(meta, indent=2))


def latest_point(out_root: Path, version: str) -> None:
    """Make ``<out_root>/<version>`` the current model (atomic: write a temp file, rename it)."""
    tmp = out_root / f".{LATEST}.tmp"
    tmp.write_text(version)
    tmp.replace(out_root / LATEST)
