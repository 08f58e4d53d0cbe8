"""Why an evaluation cannot run: the CLI maps these to exit code 3 and one `error:` line."""


class EvaluationError(RuntimeError):
    """The evaluation cannot run (configuration) or its trace source failed."""


class JudgeConfigurationError(EvaluationError):
    """The selected judge is not configured (no key, unknown provider, missing extra)."""


class EvaluationUsageError(EvaluationError):
    """The request names something that does not exist (dataset, run, user): exit code 2."""
