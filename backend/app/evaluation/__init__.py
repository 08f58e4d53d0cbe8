"""LLM-as-judge evaluation of agent traces: `from app.evaluation import Evaluator`."""

from app.evaluation.errors import EvaluationError
from app.evaluation.evaluator import EvaluationProgress, Evaluator
from app.evaluation.schemas import EvaluationOptions

__all__ = ["EvaluationError", "EvaluationOptions", "EvaluationProgress", "Evaluator"]
