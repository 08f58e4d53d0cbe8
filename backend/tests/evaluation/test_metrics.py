"""Metric prompt files: front matter, auto-discovery, validation."""

from pathlib import Path

import pytest

from app.evaluation.metrics import MetricError, load_metric, load_metrics, select_metrics

BUNDLED = {"conciseness", "correctness", "hallucination", "helpfulness", "relevancy", "toxicity"}


def test_bundled_metrics_load_with_front_matter() -> None:
    metrics = load_metrics()
    assert set(metrics) == BUNDLED
    for metric in metrics.values():
        assert metric.description and metric.version.startswith("sha256:")
        assert 0 < metric.threshold < 1 and 0 < metric.min_pass_rate <= 1
        assert "{input}" in metric.prompt and "{output}" in metric.prompt
        assert metric.examples, f"{metric.name} has no few-shot examples"
    lower_is_better = {name for name, m in metrics.items() if not m.higher_is_better}
    assert lower_is_better == {"hallucination", "toxicity"}


def test_correctness_is_reference_based_and_only_for_experiments() -> None:
    metrics = load_metrics()
    correctness = metrics["correctness"]
    assert correctness.reference and "{expected_output}" in correctness.prompt
    assert "correctness" not in {m.name for m in select_metrics(metrics)}  # trace evaluation
    assert "correctness" in {m.name for m in select_metrics(metrics, reference=True)}
    with pytest.raises(MetricError, match="expected output"):
        select_metrics(metrics, ["correctness"])
    rendered = correctness.render("How many?", "Two.", "", "Three.")
    assert "<expected_output>\nThree.\n</expected_output>" in rendered


def test_pass_is_direction_aware() -> None:
    metrics = load_metrics()
    helpful, toxic = metrics["helpfulness"], metrics["toxicity"]
    assert helpful.passed(0.9) and not helpful.passed(0.1)
    assert toxic.passed(0.0) and not toxic.passed(0.9)
    assert toxic.quality(0.9) == pytest.approx(0.1)


def test_adding_a_file_adds_a_metric(tmp_path: Path) -> None:
    (tmp_path / "politeness.md").write_text(
        "---\ndescription: Is it polite?\nthreshold: 0.7\nversion: 3\n---\n"
        'Grade politeness. JSON like {"a": 1} is fine.\nIn: {input}\nOut: {output}\n'
    )
    metrics = load_metrics(tmp_path)
    assert list(metrics) == ["politeness"]
    metric = metrics["politeness"]
    assert metric.version == "3" and metric.threshold == 0.7 and metric.higher_is_better
    rendered = metric.render("hello", "hi there")
    assert "In: hello\nOut: hi there" in rendered and '{"a": 1}' in rendered


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("---\nname: x\n---\nno placeholders here\n", "lacks {input}, {output}"),
        ("---\nname: Bad Name\n---\n{input} {output}\n", "name"),
        ("---\nthreshold: 2\n---\n{input} {output}\n", "threshold"),
        ("---\nname: y\n{input} {output}\n", "not closed"),
        ("---\n- a list\n---\n{input} {output}\n", "mapping"),
    ],
)
def test_invalid_metric_files_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(content)
    with pytest.raises(MetricError, match=message):
        load_metric(path)


def test_duplicate_names_and_unknown_selection_fail(tmp_path: Path) -> None:
    for stem in ("a", "b"):
        (tmp_path / f"{stem}.md").write_text("---\nname: same\n---\n{input} {output}\n")
    with pytest.raises(MetricError, match="duplicate"):
        load_metrics(tmp_path)
    with pytest.raises(MetricError, match="unknown metric"):
        select_metrics(load_metrics(), ["helpfulness", "nope"])
    assert [m.name for m in select_metrics(load_metrics(), ["toxicity"])] == ["toxicity"]
    assert len(select_metrics(load_metrics())) == len(BUNDLED) - 1  # correctness: experiments
