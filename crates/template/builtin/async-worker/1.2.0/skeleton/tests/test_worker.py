from prometheus_client import generate_latest

from app import metrics
from app.queue import explain, redis_options


def test_redis_settings_come_from_the_environment():
    options = redis_options(
        {
            "REDIS_HOST": "cache.internal",
            "REDIS_PORT": "6380",
            "REDIS_PASSWORD": "s3cret",
            "REDIS_TLS": "true",
            "REDIS_CA_FILE": "/ca.pem",
        }
    )
    assert options["host"] == "cache.internal"
    assert options["port"] == 6380
    assert options["password"] == "s3cret"
    assert options["ssl"] is True
    assert options["ssl_ca_certs"] == "/ca.pem"


def test_bad_settings_are_refused():
    import pytest

    with pytest.raises(ValueError, match="REDIS_TLS='maybe' is not true or false"):
        redis_options({"REDIS_TLS": "maybe"})
    with pytest.raises(ValueError, match="REDIS_PASSWORD is not"):
        redis_options({"REDIS_USERNAME": "app"})


def test_authentication_errors_say_what_to_set():
    assert "set REDIS_PASSWORD" in explain(Exception("NOAUTH Authentication required."))
    assert "set REDIS_PASSWORD" in explain(
        Exception("HELLO must be called with the client already authenticated, otherwise ...")
    )
    assert "authentication refused" in explain(Exception("WRONGPASS invalid username-password"))


def test_both_results_are_counted_from_the_start():
    body = generate_latest(metrics.registry).decode()
    assert 'worker_messages_total{result="failure"} 0.0' in body
    assert "worker_queue_connected 0.0" in body
    assert "process_cpu_seconds_total" in body
