"""The scaling study: a harness that runs every method at every training size and seed,
and the methods it runs.

Harness (this package): ``runner`` (the driver: prepare, constant lines, sweep, collect,
report; config paths made absolute, provenance), ``dataset`` (the study's items and
reading them by id), ``context`` (what every trial shares), ``sweep`` (Ray Tune),
``trials`` (one trial, kept on disk), ``results`` (a trial's result, the method names),
``analysis`` (curves, items to a target, ratios, the bootstrap), ``report`` and
``plots`` (study.md, study.json, figures), ``tracking`` (MLflow runs). The study's
config is ``audiorouter.config.study``.

Methods (``study.methods``): one module per method family -- RL router, supervised
router, internalisation heads and their features, LoRA of the reasoner.

Imports: everything below it -- evaluation, rl, router, outcomes, reasoner, tools,
store, data, cluster, tracking, config, contracts; never training, serving, inference
or cli (import-linter checks it).
"""
