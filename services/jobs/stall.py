"""When a queued job is taken for dead: pure rules over the heartbeats the jobs leave.

A job writes a heartbeat (what it is doing and when) when it is queued, when it starts and
after every chunk it commits. A batch still "applying" whose heartbeat is missing or older
than the stall limit has no job alive (its worker was killed, or the queue lost the
message): the periodic check queues it again. Queueing again is always safe, because
`batch_apply` claims its lines chunk by chunk and never applies a line twice. A batch
whose resumed jobs apply nothing several times in a row (a job that fails each time) is
left for the user's "Retomar aplicação" instead of being queued forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class JobState(StrEnum):
    NOT_QUEUED = "not_queued"  # checked, waiting for the user's confirmation
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker is applying it (its heartbeat is recent)
    STALLED = "stalled"  # "applying" with no live job: interrupted, to resume
    DONE = "done"


@dataclass(frozen=True)
class Beat:
    """A job's last sign of life: `kind` is "queued" or "running", `at` epoch seconds."""

    kind: str
    at: float


FINISHED = ("done", "done_with_refusals", "refused")


def job_state(status: str, beat: Beat | None, now: float, stall_seconds: float) -> JobState:
    """The state of a batch's job, from the batch's status and its job's last heartbeat."""
    if status in FINISHED:
        return JobState.DONE
    if status != "applying":
        return JobState.NOT_QUEUED
    if beat is None or now - beat.at > stall_seconds:
        return JobState.STALLED
    return JobState.QUEUED if beat.kind == "queued" else JobState.RUNNING


def stalled(
    applying: Iterable[int], beats: Mapping[int, Beat], now: float, stall_seconds: float
) -> list[int]:
    """The batches left "applying" with no live job, in id order."""
    return sorted(
        i
        for i in applying
        if job_state("applying", beats.get(i), now, stall_seconds) is JobState.STALLED
    )


MAX_FRUITLESS_RESUMES = 3


@dataclass(frozen=True)
class Resumes:
    """The automatic resumes of a batch: lines applied when last resumed, and how many
    resumes in a row found that same number."""

    applied: int
    times: int


def next_resume(
    previous: Resumes | None, applied: int, limit: int = MAX_FRUITLESS_RESUMES
) -> Resumes | None:
    """The record after resuming a stalled batch now, or None when it must not be resumed
    again: the last `limit` resumes applied nothing."""
    if previous is None or applied != previous.applied:
        return Resumes(applied, 1)
    if previous.times >= limit:
        return None
    return Resumes(applied, previous.times + 1)
