"""The training driver (driver.py) and the phases it runs: evidence, evaluation."""
