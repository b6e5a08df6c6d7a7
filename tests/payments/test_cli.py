"""`retailos payments`: confirm a pending charge as its cardholder, and look at a charge."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from retailos.core.db import Database
from retailos.core.settings import get_settings
from retailos.payments import service
from retailos.payments.cli import app
from retailos.payments.models import Payment
from tests.payments.conftest import PENDING

runner = CliRunner()


@pytest.fixture
def configured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RETAILOS_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_confirm_applies_the_event_and_authorises_the_payment(
    configured: None, db: Database, authorized: Callable[..., Payment]
) -> None:
    payment = authorized(card=PENDING)
    result = runner.invoke(app, ["confirm", payment.provider_ref])
    assert result.exit_code == 0, result.output
    assert f"applied: {payment.id} authorized" in result.output
    with db.transaction() as s:
        assert service.get_payment(s, payment.tenant_id, payment.id).status == "authorized"
    shown = runner.invoke(app, ["charge", payment.provider_ref])
    assert json.loads(shown.output)["status"] == "authorized"


def test_confirm_of_an_unknown_charge_exits_2(configured: None) -> None:
    result = runner.invoke(app, ["confirm", "tpch_nope"])
    assert result.exit_code == 2
    assert "no charge tpch_nope" in result.output
