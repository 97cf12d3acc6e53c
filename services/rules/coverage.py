"""Coverage periods: who is covered, where and on which plan, as of any date.

A period covers the days from `start` up to the day before `end` (`end` is the first
day not covered; None: open). Every movement is an operation on a beneficiary's periods:

- inclusion and reactivation open a period on their date;
- an exclusion stops coverage on its date (no retroactive exclusion: RN 561/2022);
- a transfer or a plan change stops the current period on its date and opens one in the
  new company or plan;
- an arts. 30/31 stay (Lei 9.656/1998, RN 279/2011) stops the regular period on the
  dismissal date and opens a "stay" period until the stay's end (None: indefinite).

Status, company and plan on a date are read off the periods, so a movement dated in the
future changes nothing before its date, and no nightly job is needed.

Explained in docs/domain/movements-and-ans.md, "Status follows dates".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True)
class Period:
    company_id: int
    plan_id: int
    start: date
    end: date | None = None  # first day not covered
    kind: str = "regular"  # "regular" or "stay" (arts. 30/31)
    id: int | None = None
    movement_id: int | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def ordered(periods: Sequence[Period]) -> list[Period]:
    return sorted(periods, key=lambda p: (p.start, p.id or 0))


def stop_at(periods: Sequence[Period], at: date) -> list[Period]:
    """Coverage stops on `at` (its first day not covered): periods starting on or after
    it go, a period running past it ends there."""
    kept = []
    for p in ordered(periods):
        if p.start >= at:
            continue
        if p.end is None or p.end > at:
            p = replace(p, end=at)
        kept.append(p)
    return kept


def open_at(
    periods: Sequence[Period],
    at: date,
    company_id: int,
    plan_id: int,
    *,
    end: date | None = None,
    kind: str = "regular",
    movement_id: int | None = None,
) -> list[Period]:
    """A new period from `at` (until `end`) replaces whatever covered those days."""
    if end is not None and end <= at:
        return stop_at(periods, at)
    return [
        *stop_at(periods, at),
        Period(company_id, plan_id, at, end, kind, None, movement_id),
    ]


def covering(periods: Sequence[Period], day: date) -> Period | None:
    """The period covering `day`, if any."""
    found = [p for p in periods if p.covers(day)]
    return ordered(found)[-1] if found else None
