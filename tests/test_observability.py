"""The shipped alert rules and Grafana dashboard (compose/observability/) match the code.

The rules load in ``promtool check rules`` and pass their unit tests (``promtool test rules``) where
promtool is installed; everywhere, their structure is checked and every metric that a rule or a
dashboard panel queries must exist in the registry the services serve.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

DIR = Path(__file__).resolve().parents[1] / "compose" / "observability"
RULES = DIR / "alerts.yml"
RULE_TESTS = DIR / "alerts.test.yml"
DASHBOARD = DIR / "grafana-dashboard.json"
PROM_CONFIG = DIR / "prometheus.example.yml"

# Every module that defines metrics on the shared registry (what a process serves at /metrics).
METRIC_MODULES = [
    "apps.bus.metrics",
    "apps.news.metrics",
    "apps.sentiment.metrics",
    "apps.market.metrics",
    "apps.strategies.metrics",
    "apps.execution.metrics",
    "apps.core.ratelimit",
    "apps.learning.metrics",
    "apps.backtests.metrics",
]
SUFFIXES = ("_total", "_created", "_bucket", "_sum", "_count")
# Scrape-time series Prometheus adds itself, not the services.
PROMETHEUS_OWN = {"up"}
METRIC_RE = re.compile(r"\b(tradebot_[a-z0-9_]+|up)\b")
ALERT_NAMES = {
    "TradebotDeadLetters",
    "TradebotStreamLag",
    "TradebotHalted",
    "TradebotReconciliationMismatch",
    "TradebotWorkerMetricsGone",
}


def registry_names() -> set[str]:
    """Sample names the services can expose: each family's name and its suffixed series."""
    from prometheus_client import REGISTRY

    for mod in METRIC_MODULES:
        importlib.import_module(mod)
    from apps.bus.metrics import BusCollector, register_collectors

    register_collectors()
    names = {name for name, _ in BusCollector.NAMES}
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + s for s in SUFFIXES)
    return names


def queried(expr: str) -> set[str]:
    return set(METRIC_RE.findall(expr))


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_rule_file_structure_and_required_alerts():
    doc = yaml.safe_load(RULES.read_text())
    assert set(doc) == {"groups"}
    seen: set[str] = set()
    for group in doc["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"} and group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
            assert rule["alert"] not in seen, f"duplicate alert {rule['alert']}"
            seen.add(rule["alert"])
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert rule["labels"]["severity"] in {"info", "warning", "critical"}
            assert {"summary", "description"} <= set(rule["annotations"])
            if "for" in rule:
                assert re.fullmatch(r"\d+[smhd]", rule["for"]), rule["for"]
            # Balanced brackets: a cheap check of the PromQL where promtool is not available.
            expr = rule["expr"]
            for a, b in ("()", "[]", "{}"):
                assert expr.count(a) == expr.count(b), (rule["alert"], expr)
    assert seen >= ALERT_NAMES, ALERT_NAMES - seen


def test_rules_query_only_metrics_the_services_expose():
    names = registry_names() | PROMETHEUS_OWN
    for rule in rules():
        missing = queried(rule["expr"]) - names
        assert not missing, f"{rule['alert']} queries unknown metrics {missing}"


def test_dashboard_is_valid_and_queries_only_known_metrics():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and dash["schemaVersion"] >= 30
    names = registry_names() | PROMETHEUS_OWN
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 20
    used: set[str] = set()
    for expr in exprs:
        found = queried(expr)
        assert found, f"a panel queries no metric: {expr}"
        used |= found
        missing = found - names
        assert not missing, f"panel query {expr!r} uses unknown metrics {missing}"
    # The pipeline's key series are on the dashboard.
    assert {
        "tradebot_bus_processed_total",
        "tradebot_stream_lag",
        "tradebot_stream_dead_letters",
        "tradebot_execution_trading_state",
        "tradebot_execution_reconcile_last_mismatches",
    } <= used


def test_example_scrape_config_names_the_jobs_the_rules_watch():
    config = yaml.safe_load(PROM_CONFIG.read_text())
    assert config["rule_files"] == [RULES.name]
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert "tradebot-workers" in jobs and all(j.startswith("tradebot") for j in jobs)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_checks_and_unit_tests_the_rules():
    for args in (
        ["check", "rules", str(RULES)],
        ["test", "rules", str(RULE_TESTS)],
        ["check", "config", "--syntax-only", str(PROM_CONFIG)],
    ):
        done = subprocess.run(
            ["promtool", *args], check=False, capture_output=True, text=True, cwd=DIR, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
