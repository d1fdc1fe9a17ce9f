from sqlalchemy.exc import OperationalError


def test_healthz_reports_database_queue_payments_and_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["queue"]["backend"] in ("SqliteHuey", "RedisHuey")
    assert body["payments"] == "simulator"
    assert body["version"]


def test_healthz_is_503_when_the_database_is_unreachable(app, client, monkeypatch):
    from app.extensions import db

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
