"""Billing: fee schedules, usage metering, monthly statements, the operator's P&L."""
