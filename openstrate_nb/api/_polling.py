"""How ``wait`` paces itself: the decisions, with no I/O, shared by both client twins.

Polls start quick (a job that is already done answers at once) and back off to a few
seconds, as the service asks. Transient faults (connection errors, 502/503/504) are
ridden out with capped exponential backoff and equal jitter (between half and all of the
backoff), so a fleet of notebooks that lost the server together does not come back in
lockstep. ``Retry-After`` wins. ``unreachable_for`` says how long the server has not
answered, so callers can say so instead of retrying in silence.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable

from ._exceptions import JobFailedError, UnexpectedStatusError, WaitTimeout
from ._models import Job, JobStatus

__all__ = ["PollPolicy", "WaitState", "parse_retry_after", "TRANSIENT_STATUS_CODES"]

TRANSIENT_STATUS_CODES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class PollPolicy:
    initial: float = 0.5
    maximum: float = 5.0
    growth: float = 1.5
    error_base: float = 0.5
    error_cap: float = 30.0
    retry_after_cap: float = 120.0
    #: polls of one unknown status before giving up on it
    max_unknown_polls: int = 30

    @classmethod
    def fixed(cls, interval: float) -> PollPolicy:
        return cls(initial=interval, maximum=interval, growth=1.0)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass
class WaitState:
    """One ``wait`` call: feed it what each poll brought, it says how long to sleep."""

    job_id: str
    policy: PollPolicy
    timeout: float | None
    on_update: Callable[[Job], None] | None = None
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    last: Job | None = None
    _interval: float = field(init=False)
    _errors: int = field(init=False, default=0)
    _lost_since: float | None = field(init=False, default=None)
    _unknown_polls: int = field(init=False, default=0)
    _started: float = field(init=False)

    def __post_init__(self) -> None:
        self._interval = self.policy.initial
        self._started = self.clock()

    def after_job(self, job: Job, retry_after: float | None = None) -> float | None:
        """Record a job document; return None when done, else seconds to sleep.

        Raises ``JobFailedError`` on ``failed`` and ``UnexpectedStatusError`` when an
        unknown status has been seen too many polls in a row.
        """
        self._errors = 0
        self._lost_since = None
        changed = self.last is None or job != self.last
        self.last = job
        if self.on_update is not None and changed:
            self.on_update(job)
        if job.status == JobStatus.COMPLETE:
            return None
        if job.status == JobStatus.FAILED:
            raise JobFailedError(job)
        if job.is_known_status:
            self._unknown_polls = 0
        else:
            self._unknown_polls += 1
            if self._unknown_polls >= self.policy.max_unknown_polls:
                raise UnexpectedStatusError(job, self._unknown_polls)
        delay = self._interval
        self._interval = min(self.policy.maximum, self._interval * self.policy.growth)
        if retry_after is not None:
            delay = min(self.policy.retry_after_cap, retry_after)
        return self._bounded(delay)

    def after_error(self, retry_after: float | None = None) -> float:
        """Record a transient fault; return seconds to sleep before the next try."""
        self._errors += 1
        if self._lost_since is None:
            self._lost_since = self.clock()
        ceiling = min(self.policy.error_cap, self.policy.error_base * 2 ** (self._errors - 1))
        delay = ceiling * (0.5 + 0.5 * self.rng())
        if retry_after is not None:
            delay = min(self.policy.retry_after_cap, retry_after)
        return self._bounded(delay)

    @property
    def unreachable_for(self) -> float:
        """Seconds since the server last answered, if the latest polls failed; else 0."""
        return 0.0 if self._lost_since is None else self.clock() - self._lost_since

    def _bounded(self, delay: float) -> float:
        """Never sleep past the deadline; raise ``WaitTimeout`` once it has passed."""
        if self.timeout is None:
            return delay
        left = self.timeout - (self.clock() - self._started)
        if left <= 0:
            raise WaitTimeout(self.job_id, self.timeout, self.last, self.unreachable_for)
        return min(delay, left)
