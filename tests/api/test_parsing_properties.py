"""Property tests: whatever a server or a proxy sends, parsing gives a model or a clear error."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from openstrate_nb.api._exceptions import InvalidResponseError, error_message_from_body
from openstrate_nb.api._models import Job, JobStatus, Upload

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
statuses = st.sampled_from(["pending", "processing", "complete", "failed"]) | st.text(max_size=12)
job_documents = st.fixed_dictionaries(
    {"job_id": st.text(min_size=1, max_size=36), "status": statuses},
    optional={
        "current_frame": json_values, "total_frames": json_values, "view_url": json_values,
        "glb_asset_url": st.sampled_from(["/api/files/a.glb", "https://x.test/api/files/b.glb", "", None]),
        "error": json_values, "stage": json_values, "mission_id": json_values,
    },
).flatmap(lambda known: st.dictionaries(st.text(max_size=10), json_values, max_size=4).map(
    lambda extra: {**extra, **known}))


@given(job_documents)
@settings(max_examples=300)
def test_any_job_document_parses_keeping_unknown_fields(doc):
    job = Job.from_dict(doc, base_url="http://server.test")
    assert job.job_id == str(doc["job_id"])
    assert str(job.status) == str(doc["status"])
    assert job.is_known_status == (doc["status"] in {s.value for s in JobStatus})
    assert job.is_terminal == (doc["status"] in ("complete", "failed"))
    progress = job.progress
    assert progress is None or 0.0 <= progress <= 1.0
    for key, value in doc.items():
        if key not in Job._KNOWN:
            assert job.extra[key] == value
    if job.glb_asset_url:
        assert job.glb_asset_url.startswith(("http://server.test/", "https://x.test/"))
    json.dumps(job.to_dict())  # always serialisable again


@given(json_values)
def test_anything_that_is_not_a_job_document_is_a_clear_error(value):
    if isinstance(value, dict) and value.get("status") is not None and value.get("job_id"):
        return
    try:
        Job.from_dict(value)
    except InvalidResponseError as exc:
        assert "job" in str(exc)
    else:
        assert isinstance(value, dict) and "status" in value and value.get("job_id")


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_upload_documents_parse_or_fail_clearly(doc):
    try:
        upload = Upload.from_dict(doc, base_url="http://server.test")
    except InvalidResponseError as exc:
        assert "upload document" in str(exc)
    else:
        assert upload.id


@given(status=st.integers(400, 599), reason=st.text(max_size=20), content=st.binary(max_size=2000),
       content_type=st.sampled_from(["", "application/json", "text/html", "text/plain", "application/problem+json"]))
@settings(max_examples=300)
def test_any_error_body_gives_a_short_readable_message(status, reason, content, content_type):
    message, _ = error_message_from_body(status, reason, content, content_type)
    assert message.strip() and not message.startswith("HTTP")
    assert len(message) <= 360 and "\n" not in message


@given(st.dictionaries(st.sampled_from(["error", "detail", "message", "other"]), json_values, max_size=4))
def test_json_error_bodies(body):
    message, parsed = error_message_from_body(400, "Bad Request", json.dumps(body).encode(), "application/json")
    assert parsed == body
    text = body.get("error")
    if isinstance(text, str) and text.strip():
        assert " ".join(text.split())[:100] in message
