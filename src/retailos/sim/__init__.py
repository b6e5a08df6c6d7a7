"""Simulators that write realistic data together with its ground truth."""
