"""`.dockerignore` matching as Docker does it (moby/patternmatcher), for the image checks.

Hand-written because no maintained Python package implements Docker's rules: patterns are
anchored at the context root, `**` spans directories, a match on a directory excludes
everything below it, and the last matching pattern (`!` re-includes) wins.
"""

import re
from pathlib import Path


def _to_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out.append(pattern[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


class DockerIgnore:
    """The rules of one `.dockerignore` file."""

    def __init__(self, path: Path) -> None:
        self.rules: list[tuple[bool, re.Pattern[str]]] = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            pattern = line.removeprefix("!").strip().strip("/")
            self.rules.append((include, _to_regex(pattern)))

    def excluded(self, relative: str) -> bool:
        """True when `relative` (a path inside the build context) is left out of the context."""
        parts = relative.strip("/").split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for include, regex in self.rules:
            if any(regex.fullmatch(candidate) for candidate in candidates):
                verdict = not include
        return verdict
