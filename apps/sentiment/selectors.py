"""Which scorer scores: FinBERT if configured and loadable, else the trained model, else VADER.

The choice is cached per process and looked at again every ``RECHECK_S`` seconds, so a model that
``manage.py train_sentiment`` finishes while the bot runs is picked up without a restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.sentiment import metrics
from apps.sentiment.scoring import Scorer
from apps.sentiment.store import latest_model_dir, meta_read
from apps.sentiment.tiers.lexicon import LexiconScorer
from apps.sentiment.tiers.ollama import OllamaTier

log = logging.getLogger(__name__)

RECHECK_S = 30.0
FINBERT, TRAINED, LEXICON = "finbert", "trained", "lexicon"


@dataclass(frozen=True, slots=True)
class ScorerChoice:
    scorer: Scorer
    kind: str  # finbert | trained | lexicon
    source: str  # what was loaded (a path, a hub id, or the lexicon's name)

    @property
    def fallback(self) -> bool:
        return self.kind == LEXICON


_lock = threading.Lock()
_cache: dict[str, tuple[float, str, ScorerChoice]] = {}
_tier2: dict[tuple[str, str, float], OllamaTier] = {}


def _source_version(source: str) -> str:
    """A short content id for a local model dir (its config + weight sizes), else ``hub``."""
    path = Path(source)
    if not path.is_dir():
        return "hub"
    digest = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            digest.update(f.name.encode())
            digest.update(str(f.stat().st_size).encode())
            if f.name == "config.json":
                digest.update(f.read_bytes())
    return digest.hexdigest()[:10]


def _load_finbert(source: str) -> ScorerChoice:
    from apps.sentiment.tiers.transformer import TransformerScorer, torch_device  # noqa: PLC0415 - torch: only where a trained model scores

    cpu = torch_device() == "cpu"
    scorer = TransformerScorer(
        source,
        name=f"finbert:{Path(source).name or source}",
        version=_source_version(source),
        int8=cpu and settings.SENTIMENT_FINBERT_INT8,
        batch_size=settings.SENTIMENT_BATCH_SIZE,
        threads=settings.SENTIMENT_THREADS or None,
        dtype=settings.SENTIMENT_DTYPE,
    )
    return ScorerChoice(scorer=scorer, kind=FINBERT, source=source)


def _load_trained(model_dir: Path) -> ScorerChoice:
    from apps.sentiment.tiers.transformer import (  # noqa: PLC0415 - torch: only where a trained model scores
        ONNX_FILE,
        OnnxScorer,
        TransformerScorer,
        torch_device,
    )

    meta = meta_read(model_dir)
    common = {
        "name": str(meta["name"]),
        "version": str(meta["version"]),
        "batch_size": settings.SENTIMENT_BATCH_SIZE,
        "max_length": int(meta.get("max_length", 64)),
        "threads": settings.SENTIMENT_THREADS or None,
    }
    scorer: Scorer
    use_onnx = settings.SENTIMENT_ENGINE == "onnx" and (model_dir / ONNX_FILE).is_file()
    if use_onnx and torch_device() == "cpu":
        scorer = OnnxScorer(model_dir, **common)
    else:
        scorer = TransformerScorer(
            str(model_dir),
            dtype=settings.SENTIMENT_DTYPE,
            **common,
        )
    return ScorerChoice(scorer=scorer, kind=TRAINED, source=str(model_dir))


def _load_lexicon(reason: str) -> ScorerChoice:
    log.warning(
        "sentiment: %s, using VADER lexicon fallback; run manage.py train_sentiment", reason
    )
    scorer = LexiconScorer()
    return ScorerChoice(scorer=scorer, kind=LEXICON, source=scorer.name)


def scorer_choose() -> ScorerChoice:
    """Load the best tier-1 scorer available now (no cache)."""
    if settings.FINBERT_MODEL:
        try:
            choice = _load_finbert(settings.FINBERT_MODEL)
        except Exception as exc:  # noqa: BLE001 - any load failure means "not available": fall back
            log.warning(
                "sentiment: FINBERT_MODEL=%r could not be loaded (%s: %s); trying the trained model",
                settings.FINBERT_MODEL,
                type(exc).__name__,
                exc,
            )
        else:
            log.info("sentiment: using FinBERT %s", choice.scorer.model_used)
            return choice
    models_dir = Path(settings.SENTIMENT_MODELS_DIR)
    model_dir = latest_model_dir(models_dir)
    if model_dir is None:
        return _load_lexicon(f"no trained model at {models_dir}")
    try:
        choice = _load_trained(model_dir)
    except Exception as exc:  # noqa: BLE001 - a broken model dir must not stop scoring
        return _load_lexicon(f"trained model at {model_dir} failed to load ({exc})")
    log.info("sentiment: using trained model %s", choice.scorer.model_used)
    return choice


def _state_key() -> str:
    """What the choice depends on: settings, and which model LATEST points at."""
    pointer = Path(settings.SENTIMENT_MODELS_DIR) / "LATEST"
    try:
        latest = pointer.read_text().strip()
    except OSError:
        latest = ""
    return (
        f"{settings.FINBERT_MODEL}|{settings.SENTIMENT_MODELS_DIR}|{settings.SENTIMENT_ENGINE}|"
        f"{settings.SENTIMENT_DTYPE}|{latest}"
    )


def scorer_get() -> ScorerChoice:
    """The cached tier-1 scorer; reloaded when the settings or the LATEST model change."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get("tier1")
        if cached and now - cached[0] < RECHECK_S:
            return cached[2]
        key = _state_key()
        if cached and cached[1] == key:
            _cache["tier1"] = (now, key, cached[2])
            return cached[2]
        choice = scorer_choose()
        _cache["tier1"] = (now, key, choice)
        metrics.FALLBACK_IN_USE.set(1 if choice.fallback else 0)
        metrics.MODEL_INFO.clear()
        metrics.MODEL_INFO.labels(choice.scorer.model_used, choice.kind).set(1)
        return choice


def scorer_reset() -> None:
    """Forget the cached choice (tests, and after training in-process)."""
    with _lock:
        _cache.clear()


def tier2_get() -> OllamaTier | None:
    """The Ollama tier when ``OLLAMA_HOST`` is set, else None (tier-1 scores are kept)."""
    host = settings.OLLAMA_HOST
    if not host:
        return None
    key = (host, settings.OLLAMA_MODEL, settings.SENTIMENT_TIER2_TIMEOUT_S)
    with _lock:
        tier = _tier2.get(key)
        if tier is None:
            tier = OllamaTier(
                host=host,
                model=settings.OLLAMA_MODEL,
                timeout_s=settings.SENTIMENT_TIER2_TIMEOUT_S,
                cooldown_s=settings.SENTIMENT_TIER2_COOLDOWN_S,
            )
            _tier2.clear()
            _tier2[key] = tier
        return tier
