"""The scaling study: a harness (this package: driver, dataset, sweep, trials, analysis,
report) that runs every method (``study.methods``) at every training size and seed.
Imports every role below it; never training, serving, inference or cli.
"""
