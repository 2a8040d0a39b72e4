"""Evaluation: outcome tables, routing policies scored on them, reports and plots."""
