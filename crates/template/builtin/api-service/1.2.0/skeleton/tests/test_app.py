import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from app import metrics
from app.main import State, create_app, parse_duration
from app.telemetry import setup_logging, setup_tracing


@pytest.fixture(scope="module")
def app():
    setup_tracing({})
    state = State(ready=True)
    app = create_app(state)

    @app.get("/items/{item_id}", status_code=204)
    async def item(item_id: str) -> None:
        if item_id == "broken":
            raise RuntimeError("broken")

    return app, state


def test_every_route_is_counted_by_pattern_and_method(app):
    application, _ = app
    client = TestClient(application, raise_server_exceptions=False)
    for path in ["/", "/items/1", "/items/2", "/items/broken", "/no/such/path"]:
        client.get(path)
    body = generate_latest(metrics.registry).decode()
    for want in [
        'http_requests_total{code="200",method="GET",route="/"} 1.0',
        'http_requests_total{code="204",method="GET",route="/items/{item_id}"} 2.0',
        'http_requests_total{code="500",method="GET",route="/items/{item_id}"} 1.0',
        'http_requests_total{code="404",method="GET",route="unmatched"} 1.0',
        'http_request_duration_seconds_count{method="GET",route="/items/{item_id}"} 3.0',
        "process_cpu_seconds_total",
        "python_gc_collections_total",
    ]:
        assert want in body, body


def test_failures_are_logged_as_json_with_the_trace_id(app, capsys):
    application, _ = app
    setup_logging()
    client = TestClient(application, raise_server_exceptions=False)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    client.get("/items/broken", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    failed = [line for line in lines if line["msg"] == "request failed"]
    assert failed, lines
    assert failed[0]["trace_id"] == trace_id
    assert failed[0]["route"] == "/items/{item_id}"
    assert failed[0]["level"] == "ERROR"
    logging.getLogger().handlers[:] = []


def test_readiness_follows_the_state(app):
    application, state = app
    client = TestClient(application)
    assert client.get("/readyz").status_code == 200
    state.ready = False
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    state.ready = True


def test_durations():
    assert parse_duration("X", None, 5) == 5
    assert parse_duration("X", "250ms", 0) == 0.25
    assert parse_duration("X", "2", 0) == 2
    with pytest.raises(ValueError, match="X='soon' is not a duration"):
        parse_duration("X", "soon", 0)
