"""Sentiment benchmark: accuracy on the Financial PhraseBank, and CPU speed on headlines.

Accuracy and macro-F1 on PhraseBank AllAgree and 75Agree (read from ``shared/data`` at bench time;
never shipped, never trained on), and on the SemEval-2017 headlines as a second, out-of-register
check (|score| < 0.1 neutral), for every scorer available: the project's trained model (torch fp32,
torch dynamic int8, ONNX fp32, ONNX int8) and the VADER lexicon. FinBERT's weights are not on this
machine, so a *randomly initialised* BERT-base (FinBERT's architecture) is measured for speed only.

Speed: headlines/s at batch 1 and 32 (``b32``: batches of 32 in arrival order; ``mb128`` and
``mb512``: micro-batches of 128 / 512 as the stream consumer passes them (``SENTIMENT_MICRO_BATCH``),
sorted by token count by the scorer into batches of 32), and
p50/p99 single-headline latency, on CPU with
``--threads`` threads (default 2). Headline-length input: the shipped twitter financial news
validation split. Run: ``python -m bench.sentiment_bench`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PHRASEBANK = Path(
    os.environ.get(
        "PHRASEBANK_DIR", ROOT.parent / "shared" / "data" / "sentiment" / "financial_phrasebank"
    )
)
HEADLINES = ROOT / "data" / "sentiment" / "twitter_financial_news" / "sent_valid.csv"


SEMEVAL = PHRASEBANK.parent / "fiqa_semeval2017" / "SemEval2017Task5Headlines.json"
SEMEVAL_NEUTRAL = 0.1  # |score| below this is neutral (the threshold SOURCE.md suggests)


def semeval_load() -> tuple[list[str], list[str]]:
    """SemEval-2017 Task 5 headlines (UK company news), continuous scores cut into 3 classes.

    A second evaluation set in another register (news headlines), read at bench time only: it has
    no licence, so it is never shipped or trained on.
    """
    rows = json.loads(SEMEVAL.read_text(encoding="utf-8"))
    texts = [r["title"] for r in rows]
    labels = [
        "neutral"
        if abs(r["sentiment"]) < SEMEVAL_NEUTRAL
        else "positive"
        if r["sentiment"] > 0
        else "negative"
        for r in rows
    ]
    return texts, labels


def phrasebank_load(split: str) -> tuple[list[str], list[str]]:
    """(sentences, labels) of ``Sentences_<split>.txt``: latin-1, ``sentence@label`` lines."""
    if split == "SemEval":
        return semeval_load()
    texts, labels = [], []
    path = PHRASEBANK / f"Sentences_{split}.txt"
    for line in path.read_text(encoding="latin-1").splitlines():
        if "@" not in line:
            continue
        text, label = line.rsplit("@", 1)
        texts.append(text.strip())
        labels.append(label.strip())
    return texts, labels


def headlines_load(n: int) -> list[str]:
    from apps.sentiment.scoring import text_normalise
    from apps.sentiment.training.train import examples_load

    return [text_normalise(t) for t, _ in examples_load(HEADLINES)][:n]


def pct(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def speed(score: Callable[[list[str]], Any], texts: list[str], singles: int) -> dict[str, float]:
    """Throughput at batch 1 and 32, and single-headline latency percentiles (ms)."""
    score(texts[:32])  # warm-up (allocations, lazy init)
    lat = []
    for t in texts[:singles]:
        t0 = time.perf_counter()
        score([t])
        lat.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    for i in range(0, len(texts), 32):
        score(texts[i : i + 32])
    b32 = len(texts) / (time.perf_counter() - t0)
    # As the stream consumer scores: micro-batches of 128, which the scorer length-sorts and runs
    # in batches of 32 (less padding).
    t0 = time.perf_counter()
    for i in range(0, len(texts), 128):
        score(texts[i : i + 128])
    micro = len(texts) / (time.perf_counter() - t0)
    # A burst as the sentiment consumer reads it (SENTIMENT_MICRO_BATCH, default 512).
    t0 = time.perf_counter()
    for i in range(0, len(texts), 512):
        score(texts[i : i + 512])
    burst = len(texts) / (time.perf_counter() - t0)
    return {
        "b1_per_s": 1000 / statistics.mean(lat),
        "b32_per_s": b32,
        "mb128_per_s": micro,
        "mb512_per_s": burst,
        "p50_ms": pct(lat, 0.5),
        "p99_ms": pct(lat, 0.99),
    }


def accuracy(score: Callable[[list[str]], list[str]], split: str) -> tuple[float, float]:
    from apps.sentiment.training.train import metrics_compute

    texts, gold = phrasebank_load(split)
    pred: list[str] = []
    for i in range(0, len(texts), 64):
        pred += score(texts[i : i + 64])
    return metrics_compute(gold, pred)


def labels_of(scorer: Any) -> Callable[[list[str]], list[str]]:
    return lambda texts: [s.label for s in scorer.score_batch(texts)]


def vader_standard(texts: list[str]) -> list[str]:
    """VADER's own convention: compound >= 0.05 positive, <= -0.05 negative."""
    from apps.sentiment.tiers.lexicon import LexiconScorer

    lex = _VADER.setdefault("lex", LexiconScorer())
    out = []
    for t in texts:
        c = lex.compound(t)
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


_VADER: dict[str, Any] = {}


def bert_base_dir(tmp: Path) -> Path:
    """A randomly initialised BERT-base classifier (FinBERT's shape) with the real vocabulary."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from apps.sentiment.training.train import base_model_path

    out = tmp / "bert-base-random"
    if (out / "config.json").is_file():
        return out
    torch.manual_seed(0)
    tok = BertTokenizerFast(vocab=str(base_model_path() / "vocab.txt"), do_lower_case=True)
    config = BertConfig(
        num_labels=3,
        id2label={0: "positive", 1: "negative", 2: "neutral"},
        label2id={"positive": 0, "negative": 1, "neutral": 2},
    )
    BertForSequenceClassification(config).eval().save_pretrained(out)
    tok.save_pretrained(out)
    return out


def onnx_for(model_dir: Path, tmp: Path) -> Path:
    """A copy of ``model_dir`` with ``model.onnx`` and ``model.int8.onnx`` (exported if missing)."""
    from transformers import AutoModelForSequenceClassification

    from apps.sentiment.tiers.transformer import (
        ONNX_FILE,
        ONNX_FP32_FILE,
        onnx_export,
        onnx_quantize,
        tokenizer_load,
    )

    if (model_dir / ONNX_FILE).is_file() and (model_dir / ONNX_FP32_FILE).is_file():
        return model_dir
    out = tmp / f"{model_dir.parent.name}-{model_dir.name}-onnx"
    if not (out / ONNX_FILE).is_file():
        out.mkdir(parents=True, exist_ok=True)
        for f in model_dir.iterdir():
            if f.is_file():
                (out / f.name).write_bytes(f.read_bytes())
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir))
        onnx_export(model, tokenizer_load(str(model_dir)), out / ONNX_FP32_FILE)
        onnx_quantize(out / ONNX_FP32_FILE, out / ONNX_FILE)
    return out


def gpu_rows(bert: Path, heads: list[str]) -> list[str]:
    """FinBERT-size model on CUDA: headlines/s by batch size and dtype (only where a GPU exists)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from apps.sentiment.tiers.transformer import tokenizer_load

    tok = tokenizer_load(str(bert))
    lines = []
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        model = AutoModelForSequenceClassification.from_pretrained(str(bert), dtype=dtype)
        model = model.to("cuda").eval()
        for bs in (1, 32, 128, 256, 1024):
            batches = [heads[i : i + bs] for i in range(0, len(heads), bs)]
            encs = [
                tok(b, padding=True, truncation=True, max_length=64, return_tensors="pt").to("cuda")
                for b in batches
            ]
            with torch.inference_mode():
                model(**encs[0])
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                for enc in encs:
                    model(**enc)
                torch.cuda.synchronize()
            rate = len(heads) / (time.perf_counter() - t0)
            lines.append(
                f"| BERT-base CUDA {str(dtype).split('.')[-1]:<9} batch {bs:>4} | {rate:>10.0f}/s |"
            )
        del model
    # The tier itself (token-sorted batches, SENTIMENT_DTYPE): what the sentiment worker gets.
    from apps.sentiment.tiers.transformer import TransformerScorer

    many = (heads * (4096 // max(1, len(heads)) + 1))[:4096]
    for dt in ("fp32", "bf16"):
        scorer = TransformerScorer(
            str(bert), name="bert", version="random", device="cuda", dtype=dt, batch_size=256
        )
        scorer.score_batch(many[:512])
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        scorer.score_batch(many)
        torch.cuda.synchronize()
        rate = len(many) / (time.perf_counter() - t0)
        lines.append(
            f"| BERT-base tier CUDA {dt:<5} batch 256 (tokenising incl.) | {rate:>8.0f}/s |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer headlines, AllAgree only")
    parser.add_argument("--skip-bert", action="store_true", help="skip the BERT-base speed rows")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: LATEST trained")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    import torch

    from apps.sentiment.store import latest_model_dir, meta_read
    from apps.sentiment.tiers.lexicon import LexiconScorer
    from apps.sentiment.tiers.transformer import ONNX_FP32_FILE, OnnxScorer, TransformerScorer
    from tradebot.env import data_dir, env

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = args.out / "sentiment_models"
    n_heads, singles = (256, 100) if args.quick else (1024, 400)
    splits = ["AllAgree"] if args.quick else ["AllAgree", "75Agree"]
    if not args.quick and SEMEVAL.is_file():
        splits.append("SemEval")
    heads = headlines_load(n_heads)

    models_root = Path(
        env.str("SENTIMENT_MODELS_DIR", default=str(data_dir() / "models" / "sentiment"))
    )
    model_dir = args.model_dir or latest_model_dir(models_root)
    rows: list[dict[str, Any]] = []

    def bench(label: str, scorer: Any, *, acc: bool = True) -> None:
        print(f"... {label}", file=sys.stderr, flush=True)
        row: dict[str, Any] = {"scorer": label}
        if acc:
            for split in splits:
                a, f1 = accuracy(labels_of(scorer), split)
                row[f"{split}_acc"], row[f"{split}_f1"] = a, f1
        row.update(speed(scorer.score_batch, heads, singles))
        rows.append(row)

    common = {"threads": args.threads, "batch_size": 32}
    if model_dir is None:
        print(
            f"no trained model under {models_root}: run manage.py train_sentiment", file=sys.stderr
        )
    else:
        meta = meta_read(model_dir)
        name, version = meta["name"], meta["version"]
        onnx_dir = (
            onnx_for(model_dir, tmp) if not (model_dir / ONNX_FP32_FILE).is_file() else model_dir
        )
        bench(
            f"{name}@{version} torch fp32",
            TransformerScorer(str(model_dir), name=name, version=version, **common),
        )
        # The GPU tier's default precision, measured here on CPU (same arithmetic; speed differs).
        bench(
            f"{name} torch bf16",
            TransformerScorer(str(model_dir), name=name, version=version, dtype="bf16", **common),
        )
        if torch.cuda.is_available():
            gpu = {**common, "device": "cuda", "batch_size": 256}
            for dt in ("fp32", "bf16", "fp16"):
                bench(
                    f"{name} CUDA {dt} batch 256",
                    TransformerScorer(str(model_dir), name=name, version=version, dtype=dt, **gpu),
                )
        bench(
            f"{name} torch dyn-int8",
            TransformerScorer(str(model_dir), name=name, version=version, int8=True, **common),
        )
        bench(
            f"{name} ONNX fp32",
            OnnxScorer(onnx_dir, name=name, version=version, onnx_file=ONNX_FP32_FILE, **common),
        )
        bench(f"{name} ONNX int8", OnnxScorer(onnx_dir, name=name, version=version, **common))
        teacher = model_dir / "teacher"
        if (teacher / "config.json").is_file():
            # The 6-layer model the shipped one was distilled from: what the distillation costs.
            t_onnx = onnx_for(teacher, tmp)
            bench(
                f"{name} 6-layer teacher ONNX int8",
                OnnxScorer(t_onnx, name=name, version=f"{version}-teacher", **common),
            )

    lex = LexiconScorer()
    bench("VADER lexicon (|score|>0.5 polar)", lex)
    row = {"scorer": "VADER lexicon (±0.05 convention)"}
    for split in splits:
        row[f"{split}_acc"], row[f"{split}_f1"] = accuracy(vader_standard, split)
    rows.append(row)

    if not args.skip_bert:
        bert = bert_base_dir(tmp)
        label = "BERT-base RANDOM weights (speed only)"
        bench(
            f"{label} torch fp32",
            TransformerScorer(str(bert), name="bert", version="random", **common),
            acc=False,
        )
        bench(
            f"{label} torch dyn-int8",
            TransformerScorer(str(bert), name="bert", version="random", int8=True, **common),
            acc=False,
        )
        bert_onnx = onnx_for(bert, tmp)
        bench(
            f"{label} ONNX int8",
            OnnxScorer(bert_onnx, name="bert", version="random", **common),
            acc=False,
        )

    cuda = torch.cuda.is_available()
    print(
        f"\nsentiment bench: CPU threads={args.threads}, torch {torch.__version__}, "
        f"CUDA {'available' if cuda else 'not available (GPU rows skipped)'}; "
        f"speed on {len(heads)} headlines (twitter valid split), latency over {singles} singles"
    )
    cols = [f"{s}_{m}" for s in splits for m in ("acc", "f1")] + [
        "b1_per_s",
        "b32_per_s",
        "mb128_per_s",
        "mb512_per_s",
        "p50_ms",
        "p99_ms",
    ]
    head = f"| {'scorer':<58} | " + " | ".join(f"{c:>12}" for c in cols) + " |"
    print(head)
    print("|" + "-" * 60 + "|" + "|".join("-" * 14 for _ in cols) + "|")
    for row in rows:
        cells = []
        for c in cols:
            v = row.get(c)
            cells.append(
                f"{'-':>12}"
                if v is None
                else f"{v:>12.3f}"
                if c.endswith(("acc", "f1"))
                else f"{v:>12.1f}"
            )
        print(f"| {row['scorer']:<58} | " + " | ".join(cells) + " |")

    fp32 = next(
        (r for r in rows if r["scorer"].endswith("torch fp32") and "RANDOM" not in r["scorer"]),
        None,
    )
    int8 = next(
        (r for r in rows if r["scorer"].endswith("ONNX int8") and "RANDOM" not in r["scorer"]), None
    )
    if fp32 and int8:
        for split in splits:
            cost = (fp32[f"{split}_acc"] - int8[f"{split}_acc"]) * 100
            print(f"accuracy cost of ONNX int8 on our model, {split}: {cost:+.2f} points")
        print(
            "our model ONNX int8 vs torch fp32 speed at batch 32: "
            f"{int8['b32_per_s'] / fp32['b32_per_s']:.1f}x"
        )
    bf16 = next((r for r in rows if r["scorer"].endswith("torch bf16")), None)
    if fp32 and bf16:
        for split in splits:
            cost = (fp32[f"{split}_acc"] - bf16[f"{split}_acc"]) * 100
            print(f"accuracy cost of bf16 on our model, {split}: {cost:+.2f} points (goal: <= 0.5)")
    bert32 = next(
        (r for r in rows if r["scorer"].endswith("RANDOM weights (speed only) torch fp32")), None
    )
    bert8 = next(
        (r for r in rows if r["scorer"].endswith("RANDOM weights (speed only) ONNX int8")), None
    )
    if bert32 and bert8:
        print(
            "BERT-base ONNX int8 vs fp32 eager: "
            f"{bert8['b32_per_s'] / bert32['b32_per_s']:.1f}x at batch 32, "
            f"{bert32['p50_ms'] / bert8['p50_ms']:.1f}x single-headline p50"
        )
    if cuda and not args.skip_bert:
        print("\nGPU (FinBERT-size BERT-base, random weights, model time only, tokenised ahead):")
        for line in gpu_rows(bert_base_dir(tmp), heads):
            print(line)
    (args.out / "sentiment.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
