"""The benchmark's probe (CARETEAMS_BENCH=1, config COUNT_STATEMENTS): each response
says how many SQL statements its request sent and how long the app took; off by default."""

from __future__ import annotations

from careteams import create_app


def test_the_probe_counts_statements_per_request_only_when_asked(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "X-SQL-Statements" not in response.headers and "X-Request-Ms" not in response.headers

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "COUNT_STATEMENTS": True})
    probe = app.test_client()
    health = probe.get("/healthz")
    assert health.status_code == 200
    assert int(health.headers["X-SQL-Statements"]) >= 1  # /healthz asks the database
    assert float(health.headers["X-Request-Ms"]) >= 0
    static = probe.get("/static/site.css")
    assert static.headers["X-SQL-Statements"] == "0"
    static.close()


def test_the_setting_comes_from_the_environment(monkeypatch):
    import config

    monkeypatch.setenv("CARETEAMS_BENCH", "1")
    assert config.load("development")["COUNT_STATEMENTS"] is True
    monkeypatch.setenv("CARETEAMS_BENCH", "0")
    assert config.load("development")["COUNT_STATEMENTS"] is False
