import os
import subprocess
import sys

import pytest

from app.config import PROJECT_ROOT, ConfigError, load_config, sqlalchemy_url


def test_production_without_secrets_names_every_missing_variable(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config({"MAIS_ENV": "production", "MAIS_INSTANCE_PATH": str(tmp_path)})
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SMTP_URL", "BASE_URL",
                 "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET"):
        assert name in str(exc.value)
    assert not (tmp_path / "secrets.json").exists(), "production must never generate secrets"


def test_production_with_everything_set_has_no_dev_mailbox_and_secure_cookies(tmp_path):
    config = load_config({
        "MAIS_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/mais",
        "REDIS_URL": "redis://r:6379/0", "SMTP_URL": "smtp://mail:25", "BASE_URL": "https://mais.example",
        "MAIS_INSTANCE_PATH": str(tmp_path), "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_a", "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_b",
        "PLATFORM_FEE_BP": "150", "PLATFORM_FEE_FIXED": "usd:30,EUR:25",
    })
    assert config["DEV_MAILBOX"] is False
    assert config["PAYMENTS_MODE"] == "stripe"
    assert (config["PLATFORM_FEE_BP"], config["PLATFORM_FEE_FIXED"]) == (150, {"USD": 30, "EUR": 25})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/mais"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"


def test_embedded_default_generates_secrets_once_and_keeps_them(tmp_path):
    first = load_config({"MAIS_INSTANCE_PATH": str(tmp_path)})
    second = load_config({"MAIS_INSTANCE_PATH": str(tmp_path)})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 40
    assert oct((tmp_path / "secrets.json").stat().st_mode)[-3:] == "600"
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first["PAYMENTS_MODE"] == "simulator"


def test_database_url_maps_to_psycopg3():
    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert sqlalchemy_url("sqlite:///x.db") == "sqlite:///x.db"


def test_starting_in_production_without_secret_key_exits_non_zero_naming_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL")}
    env.update(MAIS_ENV="production", MAIS_INSTANCE_PATH=str(tmp_path),
               MAIS_HUEY_PATH=str(tmp_path / "huey.db"))
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_trusted_proxy_hops_default_to_none_and_refuse_nonsense(tmp_path):
    base = {"MAIS_INSTANCE_PATH": str(tmp_path)}
    assert load_config(base)["TRUSTED_PROXY_HOPS"] == 0
    assert load_config({**base, "TRUSTED_PROXY_HOPS": "2"})["TRUSTED_PROXY_HOPS"] == 2
    for bad in ("-1", "two", ""):
        with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS"):
            load_config({**base, "TRUSTED_PROXY_HOPS": bad})


def test_a_malformed_platform_fee_stops_the_start(tmp_path):
    with pytest.raises(ConfigError, match="PLATFORM_FEE_FIXED"):
        load_config({"MAIS_INSTANCE_PATH": str(tmp_path), "PLATFORM_FEE_FIXED": "USD30"})
    with pytest.raises(ConfigError, match="PLATFORM_FEE_BP"):
        load_config({"MAIS_INSTANCE_PATH": str(tmp_path), "PLATFORM_FEE_BP": "12.5"})


def test_an_older_instance_gets_the_connect_webhook_secret_and_keeps_its_others(tmp_path):
    import json

    (tmp_path / "secrets.json").write_text(json.dumps({"SECRET_KEY": "k" * 48,
                                                       "STRIPE_WEBHOOK_SECRET": "whsec_old"}))
    config = load_config({"MAIS_INSTANCE_PATH": str(tmp_path)})
    assert config["SECRET_KEY"] == "k" * 48 and config["STRIPE_WEBHOOK_SECRET"] == "whsec_old"
    assert config["STRIPE_CONNECT_WEBHOOK_SECRET"].startswith("whsec_")
    assert load_config({"MAIS_INSTANCE_PATH": str(tmp_path)})[
        "STRIPE_CONNECT_WEBHOOK_SECRET"] == config["STRIPE_CONNECT_WEBHOOK_SECRET"]
