"""``wait``'s pacing: adaptive polls, Retry-After, backoff through faults, unknown statuses."""

from __future__ import annotations

import itertools

import httpx
import pytest

from openstrate_nb import AsyncOpenStrate, JobFailedError, OpenStrate, UnexpectedStatusError, WaitTimeout
from openstrate_nb.api._models import Job
from openstrate_nb.api._polling import PollPolicy, WaitState, parse_retry_after


def _job(status="processing", **extra):
    return Job.from_dict({"job_id": "j", "status": status, **extra})


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_polls_start_quick_and_back_off_to_a_few_seconds():
    state = WaitState("j", PollPolicy(), None, clock=FakeClock())
    delays = [state.after_job(_job()) for _ in range(12)]
    assert delays[0] == 0.5 and delays == sorted(delays) and delays[-1] == 5.0


def test_fixed_poll_interval():
    state = WaitState("j", PollPolicy.fixed(0.01), None)
    assert {state.after_job(_job()) for _ in range(5)} == {0.01}


def test_retry_after_wins():
    state = WaitState("j", PollPolicy(), None)
    assert state.after_job(_job(), retry_after=7) == 7
    assert state.after_error(retry_after=3) == 3
    assert state.after_error(retry_after=10_000) == PollPolicy().retry_after_cap


def test_errors_back_off_exponentially_with_jitter_and_a_cap():
    lows = WaitState("j", PollPolicy(), None, rng=lambda: 0.0)
    highs = WaitState("j", PollPolicy(), None, rng=lambda: 1.0)
    low = [lows.after_error() for _ in range(10)]
    high = [highs.after_error() for _ in range(10)]
    assert high[:4] == [0.5, 1.0, 2.0, 4.0] and high[-1] == PollPolicy().error_cap
    assert all(lo == hi / 2 for lo, hi in zip(low, high))


def test_a_good_poll_resets_the_error_backoff():
    state = WaitState("j", PollPolicy(), None, rng=lambda: 1.0)
    for _ in range(5):
        state.after_error()
    state.after_job(_job())
    assert state.after_error() == 0.5


def test_deadline_caps_the_sleep_then_times_out():
    clock = FakeClock()
    state = WaitState("j", PollPolicy.fixed(5), timeout=2, clock=clock)
    assert state.after_job(_job()) == 2
    clock.now = 2.0
    with pytest.raises(WaitTimeout, match="keeps running on the server") as err:
        state.after_job(_job())
    assert err.value.job_id == "j" and err.value.last.status == "processing"


def test_on_update_sees_changes_only():
    seen = []
    state = WaitState("j", PollPolicy(), None, on_update=seen.append)
    for job in (_job(current_frame=1), _job(current_frame=1), _job(current_frame=2)):
        state.after_job(job)
    assert [j.current_frame for j in seen] == [1, 2]


def test_failed_raises_with_the_error_text():
    with pytest.raises(JobFailedError, match="the camera does not move"):
        WaitState("j", PollPolicy(), None).after_job(_job("failed", error="the camera does not move"))


def test_failed_without_error_text_still_reads_well():
    with pytest.raises(JobFailedError, match="gave no reason"):
        WaitState("j", PollPolicy(), None).after_job(_job("failed"))


@pytest.mark.parametrize("value, expected", [("3", 3.0), ("0", 0.0), ("-4", 0.0), ("soon", None), (None, None)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def _scripted(responses):
    """A transport answering each request with the next scripted item (a Response or an exception)."""
    script = iter(responses)
    requests = []

    def handler(request):
        requests.append(request)
        item = next(script)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, requests


def test_wait_rides_out_503_bursts_and_dropped_connections():
    handler, requests = _scripted([
        httpx.Response(503, json={"error": "busy"}, headers={"Retry-After": "0"}),
        httpx.Response(502, text="bad gateway"),
        httpx.ConnectError("refused"),
        httpx.Response(504),
        httpx.Response(200, json={"job_id": "j", "status": "processing", "current_frame": 5, "total_frames": 10}),
        httpx.Response(200, json={"job_id": "j", "status": "complete", "glb_asset_url": "/api/files/a.glb"}),
    ])
    client = OpenStrate("http://t", transport=httpx.MockTransport(handler), poll_interval=0.001)
    from unittest import mock

    with mock.patch("openstrate_nb.api._polling.PollPolicy.error_base", 0.001):
        job = client.wait("j", timeout=30)
    assert job.status == "complete" and len(requests) == 6


def test_wait_does_not_retry_a_404():
    handler, requests = _scripted([httpx.Response(404, json={"error": "no such job"})])
    from openstrate_nb import NotFoundError

    with pytest.raises(NotFoundError):
        OpenStrate("http://t", transport=httpx.MockTransport(handler)).wait("j")
    assert len(requests) == 1


def test_unknown_status_is_reported_and_never_looped_on_forever():
    seen = []
    handler = lambda request: httpx.Response(200, json={"job_id": "j", "status": "queued-on-mars"})  # noqa: E731
    client = OpenStrate("http://t", transport=httpx.MockTransport(handler), poll_interval=0.001)
    with pytest.raises(UnexpectedStatusError, match="queued-on-mars"):
        client.wait("j", on_update=seen.append)
    assert seen and seen[0].status == "queued-on-mars" and not seen[0].is_known_status


def test_unknown_status_followed_by_a_known_one_carries_on():
    statuses = itertools.chain(["warming-up"] * 5, ["processing"], itertools.repeat("complete"))
    handler = lambda request: httpx.Response(200, json={"job_id": "j", "status": next(statuses)})  # noqa: E731
    client = OpenStrate("http://t", transport=httpx.MockTransport(handler), poll_interval=0.001)
    assert client.wait("j").status == "complete"


@pytest.mark.anyio
async def test_async_wait_honours_retry_after_on_success():
    handler, requests = _scripted([
        httpx.Response(200, json={"job_id": "j", "status": "processing"}, headers={"Retry-After": "0"}),
        httpx.Response(200, json={"job_id": "j", "status": "complete"}),
    ])
    async with AsyncOpenStrate("http://t", transport=httpx.MockTransport(handler), poll_interval=60) as client:
        job = await client.wait("j", timeout=10)  # a 60 s poll would time out; Retry-After: 0 does not
    assert job.status == "complete" and len(requests) == 2


def test_wait_says_at_once_when_the_server_is_gone_and_its_timeout_says_the_state_is_unknown(served, video):
    from openstrate_nb import APIConnectionError, OpenStrate, WaitTimeout

    server = served("--pipeline", "_pipelines:sleeping_pipeline")
    with OpenStrate(server.base_url) as client:
        job_id = client.upload(video).job_id
        server.kill()
        said = []
        with pytest.raises(WaitTimeout) as timeout:
            client.wait(job_id, timeout=6, on_error=lambda error, lost: said.append((error, lost)))
    assert said and isinstance(said[0][0], APIConnectionError) and said[0][1] < 1  # at the first failed poll
    assert said[-1][1] > 1  # and it keeps saying so, with the time since the server last answered
    assert timeout.value.unreachable_for > 1
    assert "has not answered" in str(timeout.value) and "keeps running" not in str(timeout.value)
