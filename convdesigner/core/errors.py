"""The error type shared by the loaders: every problem found at once, not just the first."""

from __future__ import annotations


class ProblemsError(ValueError):
    """A file or object that cannot be used; ``problems`` lists every located problem.

    A user fixing a hand-written file wants the whole list, so loaders collect problems and
    raise once; the message shows the first few so a one-line CLI error stays readable.
    """

    max_reported = 10

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        from convdesigner.core.validate import printable

        shown = [printable(p, 500) for p in problems[: self.max_reported]]
        more = len(problems) - len(shown)
        text = "; ".join(shown) + (f"; and {more} more problem(s)" if more > 0 else "")
        super().__init__(f"{printable(source, 300)}: {text}" if source else text)
