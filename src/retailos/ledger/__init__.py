"""The ledger: accounts per (tenant, code, currency), balanced append-only journal entries."""
