"""Walk-out (cashierless) checkout: recordings, the engine, replay and scoring."""
