"""The background worker: fan out the outbox, then send what is due, until told to stop.

Run it as `retailos webhooks worker`, or inside the API process with RETAILOS_RUN_WORKERS=true.
Any number of workers may run against one database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import httpx
from sqlalchemy.orm import Session

from retailos.core.clock import Clock
from retailos.core.db import Database
from retailos.core.settings import Settings, get_settings
from retailos.webhooks.dispatch import deliver_due, fan_out

log = logging.getLogger("retailos.webhooks")


class Worker:
    def __init__(self, db: Database, clock: Clock, settings: Settings | None = None,
                 interval_s: float = 1.0, batch: int = 100,
                 upkeep: Sequence[Callable[[Session, Clock], object]] = (),
                 upkeep_interval_s: float = 60.0) -> None:
        self.db = db
        self.upkeep = upkeep
        self.upkeep_interval_s = upkeep_interval_s
        self._next_upkeep = 0.0
        self.clock = clock
        self.settings = settings or get_settings()
        self.interval_s = interval_s
        self.batch = batch
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, client: httpx.Client) -> int:
        """One pass: upkeep when due, dispatch a batch of events, send a batch of due deliveries."""
        if self.upkeep and time.monotonic() >= self._next_upkeep:
            self._next_upkeep = time.monotonic() + self.upkeep_interval_s
            for task in self.upkeep:
                with self.db.transaction() as session:
                    task(session, self.clock)
        with self.db.transaction() as session:
            dispatched = fan_out(session, self.clock, self.batch)
        sent = deliver_due(self.db, self.clock, client, self.batch, self.settings)
        return dispatched + sent

    def run(self) -> None:
        """Loop until `stop_event` is set; a busy pass goes again at once, an idle one waits."""
        with httpx.Client(follow_redirects=False) as client:
            while not self.stop_event.is_set():
                try:
                    busy = self.run_once(client)
                except Exception:
                    log.exception("webhook worker pass failed")
                    busy = 0
                if not busy:
                    self.stop_event.wait(self.interval_s)

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run, name="retailos-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
