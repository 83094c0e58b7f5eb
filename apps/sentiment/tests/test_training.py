"""``manage.py train_sentiment`` end to end on a tiny run, and the scorer chooser on its output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.sentiment import metrics
from apps.sentiment.selectors import FINBERT, LEXICON, TRAINED, scorer_get, scorer_reset
from apps.sentiment.store import LATEST, latest_model_dir
from apps.sentiment.tests.conftest import tiny_classifier_save
from apps.sentiment.training.train import ID2LABEL, TWITTER_LABELS, examples_load

DATA = Path(__file__).resolve().parents[3] / "data" / "sentiment" / "twitter_financial_news"


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models")
    call_command(
        "train_sentiment",
        "--max-samples=48",
        "--epochs=1",
        "--batch-size=16",
        "--threads=1",
        f"--out={out}",
        "--no-progress",
    )
    return out


@pytest.fixture(autouse=True)
def _fresh_choice():
    scorer_reset()
    yield
    scorer_reset()


def test_shipped_data_maps_twitter_labels():
    rows = examples_load(DATA / "sent_valid.csv")
    assert len(rows) == 2388
    assert {lab for _, lab in rows} == {"positive", "negative", "neutral"}
    assert TWITTER_LABELS == {"0": "negative", "1": "positive", "2": "neutral"}
    text, label = rows[0]
    assert text and label in ID2LABEL.values()


def test_training_writes_a_versioned_model_with_onnx(trained_dir):
    model_dir = latest_model_dir(trained_dir)
    assert model_dir is not None
    assert (trained_dir / LATEST).read_text().strip() == model_dir.name
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["name"] == "tradebot-minilm-sentiment"
    assert meta["version"] == model_dir.name
    assert meta["train_rows"] == 48
    assert meta["synthetic_rows"] == 24  # half of a capped run is generated report sentences
    # Default recipe: the fine-tuned 6-layer teacher distilled into a 5-layer student.
    assert meta["layers"] == 5
    assert meta["distilled_from"]["layers"] == 6
    assert meta["distilled_from"]["kept_layers"] == [0, 1, 2, 4, 5]
    assert json.loads((model_dir / "config.json").read_text())["num_hidden_layers"] == 5
    assert (model_dir / "teacher" / "model.safetensors").is_file()
    for f in ("config.json", "model.safetensors", "tokenizer.json", "model.int8.onnx"):
        assert (model_dir / f).is_file(), f
    config = json.loads((model_dir / "config.json").read_text())
    assert config["id2label"] == {"0": "positive", "1": "negative", "2": "neutral"}


def test_saved_tokenizer_is_not_all_unk(trained_dir):
    from apps.sentiment.tiers.transformer import tokenizer_load

    tok = tokenizer_load(str(latest_model_dir(trained_dir)))
    ids = tok("operating profit rose")["input_ids"]
    assert tok.unk_token_id not in ids


def test_chooser_loads_the_trained_model_onnx_then_torch(settings, trained_dir):
    settings.FINBERT_MODEL = ""
    settings.SENTIMENT_MODELS_DIR = trained_dir
    choice = scorer_get()
    assert choice.kind == TRAINED and not choice.fallback
    latest = latest_model_dir(trained_dir)
    assert latest is not None
    version = latest.name
    assert choice.scorer.model_used == f"tradebot-minilm-sentiment@{version}+onnx-int8"
    [s] = choice.scorer.score_batch(["Nokia profit jumps 20%"])
    assert -1 <= s.score <= 1
    assert metrics.FALLBACK_IN_USE._value.get() == 0

    settings.SENTIMENT_ENGINE = "torch"
    scorer_reset()
    torch_choice = scorer_get()
    assert torch_choice.scorer.model_used == f"tradebot-minilm-sentiment@{version}"
    [t] = torch_choice.scorer.score_batch(["Nokia profit jumps 20%"])
    assert t.score == pytest.approx(s.score, abs=0.15)  # int8 is close to fp32


def test_no_model_means_vader_said_plainly(settings, tmp_path, caplog):
    settings.FINBERT_MODEL = ""
    settings.SENTIMENT_MODELS_DIR = tmp_path / "empty"
    with caplog.at_level(logging.WARNING, logger="apps.sentiment.selectors"):
        choice = scorer_get()
    assert choice.kind == LEXICON and choice.fallback
    assert choice.scorer.model_used == "vader-lexicon@3.3.2"
    assert (
        f"sentiment: no trained model at {tmp_path / 'empty'}, using VADER lexicon fallback; "
        "run manage.py train_sentiment" in caplog.text
    )
    assert metrics.FALLBACK_IN_USE._value.get() == 1


def test_model_appearing_later_is_picked_up(settings, tmp_path, trained_dir, monkeypatch):
    import apps.sentiment.selectors as sel

    settings.FINBERT_MODEL = ""
    settings.SENTIMENT_MODELS_DIR = tmp_path
    assert scorer_get().kind == LEXICON
    for f in trained_dir.rglob("*"):  # "training finished": copy a model in, LATEST last
        if f.is_file() and f.name != LATEST:
            dest = tmp_path / f.relative_to(trained_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(f.read_bytes())
    (tmp_path / LATEST).write_text((trained_dir / LATEST).read_text())
    monkeypatch.setattr(sel, "RECHECK_S", 0.0)
    assert scorer_get().kind == TRAINED


def test_finbert_setting_wins_when_loadable(settings, tmp_path, trained_dir):
    finbert = tiny_classifier_save(tmp_path / "finbert-tiny")
    settings.FINBERT_MODEL = str(finbert)
    settings.SENTIMENT_MODELS_DIR = trained_dir
    choice = scorer_get()
    assert choice.kind == FINBERT
    assert choice.scorer.model_used.startswith("finbert:finbert-tiny@")
    assert choice.scorer.model_used.endswith("+torch-int8")  # CPU: dynamic int8 by default


def test_broken_finbert_falls_back_to_trained(settings, tmp_path, trained_dir, caplog):
    settings.FINBERT_MODEL = str(tmp_path / "missing-finbert")
    settings.SENTIMENT_MODELS_DIR = trained_dir
    with caplog.at_level(logging.WARNING, logger="apps.sentiment.selectors"):
        choice = scorer_get()
    assert choice.kind == TRAINED
    assert "could not be loaded" in caplog.text


def test_student_keeps_evenly_spaced_teacher_layers(tiny_model_dir):
    import torch
    from transformers import AutoModelForSequenceClassification

    from apps.sentiment.training.train import layers_kept, student_from

    assert layers_kept(6, 5) == [0, 1, 2, 4, 5]
    assert layers_kept(6, 4) == [0, 2, 3, 5]
    assert layers_kept(6, 3) == [0, 2, 5] or layers_kept(6, 3) == [0, 3, 5]
    assert layers_kept(6, 6) == list(range(6))
    assert layers_kept(6, 1) == [5]
    teacher = AutoModelForSequenceClassification.from_pretrained(str(tiny_model_dir))
    n = teacher.config.num_hidden_layers
    student = student_from(teacher, n - 1)
    kept = layers_kept(n, n - 1)
    assert student.config.num_hidden_layers == len(student.base_model.encoder.layer) == n - 1
    assert teacher.config.num_hidden_layers == n  # the teacher is untouched
    for s_layer, t_idx in zip(student.base_model.encoder.layer, kept, strict=True):
        t_layer = teacher.base_model.encoder.layer[t_idx]
        for a, b in zip(s_layer.parameters(), t_layer.parameters(), strict=True):
            assert torch.equal(a, b)


def test_training_device_and_precision_resolve(monkeypatch):
    import torch

    from apps.sentiment.training.train import training_setup

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert training_setup(None, "auto") == ("cpu", "fp32")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert training_setup(None, "auto") == ("cuda", "bf16")  # CUDA when present, bf16 autocast
    assert training_setup("cpu", "auto") == ("cpu", "fp32")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert training_setup(None, "auto") == ("cuda", "fp16")


def test_mixed_precision_training_runs_the_autocast_path(tmp_path):
    """The CUDA recipe (autocast, loss scaling hooks, device moves) on CPU with bf16 autocast."""
    out = tmp_path / "models"
    call_command(
        "train_sentiment",
        "--max-samples=24",
        "--epochs=1",
        "--batch-size=8",
        "--threads=1",
        "--student-layers=0",
        "--no-onnx",
        "--device=cpu",
        "--precision=bf16",
        f"--out={out}",
        "--no-progress",
    )
    model_dir = latest_model_dir(out)
    assert model_dir is not None
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["trained_on"] == {"device": "cpu", "precision": "bf16"}
    # Weights are kept in fp32 (autocast only lowers the matmuls): the saved model is fp32.
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir))
    assert next(model.parameters()).dtype.is_floating_point
    assert str(next(model.parameters()).dtype) == "torch.float32"
