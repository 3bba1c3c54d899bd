"""Progress from 0 to 100 across the stages and the faces.

The share of each stage reflects where the time goes on a typical photo: the
restorer dominates, so faces get most of the range, each in proportion to its
crop's pixel count (a 128 px face costs four 64 px ones). The callback only
sees strictly increasing values, so a client polling it never sees a step back,
and 100 comes last, once.
"""

from __future__ import annotations

from collections.abc import Callable

# Cumulative percentage reached at the end of each stage before the faces.
_STAGE_END = {"decode": 5, "detect": 12}
_FACES_END = 95  # encoding takes the rest


class ProgressPlan:
    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self._callback = callback
        self._last = -1
        self._face_costs: list[int] = []
        self._faces_done = 0

    def report(self, value: float) -> None:
        percent = int(min(100, max(0, value)))
        if percent > self._last:
            self._last = percent
            if self._callback is not None:
                self._callback(percent)

    def finish_stage(self, stage: str) -> None:
        self.report(_STAGE_END[stage])

    def plan_faces(self, costs: list[int]) -> None:
        self._face_costs = costs
        self._faces_done = 0

    def finish_face(self) -> None:
        self._faces_done += 1
        total = sum(self._face_costs) or 1
        done = sum(self._face_costs[: self._faces_done])
        start = _STAGE_END["detect"]
        self.report(start + (_FACES_END - start) * done / total)
