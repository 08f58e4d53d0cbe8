"""LLM-as-judge evaluation of agent traces: `from app.evaluation import Evaluator`."""

from app.evaluation.evaluator import EvaluationError, EvaluationProgress, Evaluator
from app.evaluation.schemas import EvaluationOptions

__all__ = ["EvaluationError", "EvaluationOptions", "EvaluationProgress", "Evaluator"]
