"""A small workflow runner: steps run in order; when one fails, the compensations of the steps
that completed run in reverse, then the error propagates. Nothing is left half done.

Steps that only write our own tables need no compensation of their own: the caller's unit of
work rolls them back with the failure. Steps with effects outside our transaction (a payment
provider, a stock hold another process may see) must undo them in their compensation, and the
compensation must be idempotent: the failing step's own compensation runs too, because a step
may have done part of its work (an authorisation whose response we lost) before it failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from retailos.core.errors import Problem

log = logging.getLogger("retailos.orders.workflow")

C = TypeVar("C")


@dataclass(frozen=True)
class Step(Generic[C]):
    name: str
    run: Callable[[C], Any]
    compensate: Callable[[C], Any] | None = None


@dataclass
class Workflow(Generic[C]):
    name: str
    steps: list[Step[C]] = field(default_factory=list)

    def run(self, context: C) -> C:
        """Run every step against `context`; on failure undo the failed step and those before it,
        newest first."""
        done: list[Step[C]] = []
        for step in self.steps:
            try:
                step.run(context)
            except BaseException as e:
                # A refusal (out of stock, declined) is business as usual; anything else is not.
                level = logging.INFO if isinstance(e, Problem) else logging.WARNING
                log.log(level, "workflow step failed; compensating",
                        extra={"workflow": self.name, "step": step.name, "error": str(e)})
                self._compensate(context, [*done, step])
                raise
            done.append(step)
        return context

    def _compensate(self, context: C, done: list[Step[C]]) -> None:
        for step in reversed(done):
            if step.compensate is None:
                continue
            try:
                step.compensate(context)
            except Exception:
                # Keep undoing the others; the original failure is what the caller sees.
                log.exception("compensation failed",
                              extra={"workflow": self.name, "step": step.name})
