"""Payment settings from the environment (RETAILOS_PAYMENTS_*): the webhook
secret, and the faults the built-in test provider injects."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PaymentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAILOS_PAYMENTS_")

    # Signs the test provider's events. Set a real secret anywhere but a laptop.
    webhook_secret: str = "whsec_retailos_test_provider"
    test_latency_seconds: float = 0.0
    test_failure_rate: float = 0.0
    test_response_loss_rate: float = 0.0
    test_seed: int | None = None


def get_payment_settings() -> PaymentSettings:
    return PaymentSettings()
