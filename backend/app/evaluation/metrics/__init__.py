"""Metrics are markdown prompt files with YAML front matter; adding a file adds a metric."""

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from app.evaluation.schemas import MetricDefinition

PROMPTS_DIR = Path(__file__).parent / "prompts"


class MetricError(ValueError):
    """A metric file is invalid, or an unknown metric was requested."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split `---` YAML front matter from the body.

    Hand-written (a few lines over PyYAML) rather than adding python-frontmatter for one call.
    """
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            meta = yaml.safe_load("".join(lines[1:index])) or {}
            if not isinstance(meta, dict):
                raise MetricError("front matter must be a YAML mapping")
            return meta, "".join(lines[index + 1 :]).strip() + "\n"
    raise MetricError("front matter is not closed with '---'")


def prompt_hash(text: str) -> str:
    """The prompt version of a file without a `version`: a hash of its whole text, so any edit
    (rubric, examples, threshold) is a new version whose scores don't mix with the old ones."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def load_metric(path: Path) -> MetricDefinition:
    """Parse one prompt file; the file name is the default metric name."""
    try:
        text = path.read_text(encoding="utf-8")
        meta, body = split_front_matter(text)
        meta.setdefault("name", path.stem)
        meta["version"] = str(meta["version"]) if "version" in meta else prompt_hash(text)
        return MetricDefinition(**meta, prompt=body, path=path)
    except (MetricError, ValidationError, yaml.YAMLError, TypeError) as exc:
        raise MetricError(f"{path.name}: {exc}") from exc


def load_metrics(directory: Path | None = None) -> dict[str, MetricDefinition]:
    """Every `*.md` metric in `directory` (default: the bundled prompts), by name."""
    metrics: dict[str, MetricDefinition] = {}
    for path in sorted((directory or PROMPTS_DIR).glob("*.md")):
        metric = load_metric(path)
        if metric.name in metrics:
            raise MetricError(f"duplicate metric name {metric.name!r} in {path.name}")
        metrics[metric.name] = metric
    return metrics


def select_metrics(
    available: dict[str, MetricDefinition],
    names: Iterable[str] = (),
    *,
    reference: bool = False,
) -> list[MetricDefinition]:
    """The requested metrics (all when none are named); unknown names raise `MetricError`.

    Reference-based metrics (graded against an expected output) only exist in experiments:
    without `reference` they are left out of "all" and naming one is an error.
    """
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in available]
    if unknown:
        known = ", ".join(sorted(available)) or "none"
        raise MetricError(f"unknown metric(s): {', '.join(unknown)} (available: {known})")
    if not reference:
        needs = [name for name in wanted if available[name].reference]
        if needs:
            raise MetricError(
                f"{', '.join(needs)} grades against a dataset's expected output: "
                "use it with `agent-eval experiment run`"
            )
    chosen = [available[name] for name in wanted] if wanted else list(available.values())
    return [m for m in chosen if reference or not m.reference]
