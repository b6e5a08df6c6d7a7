"""Settings from the environment (RETAILOS_*)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAILOS_")

    database_url: str = "sqlite:///./.retailos/retailos.db"
    log_level: str = "INFO"
    log_json: bool = True
    reservation_minutes: int = 15
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    run_workers: bool = False  # run the webhook/outbox worker inside the API process


@lru_cache
def get_settings() -> Settings:
    return Settings()
