"""Router training: one-step routing env, rewards registry, RLlib wiring, learners.

Light modules (no Ray import): ``rewards``, ``registry``, ``env``,
RLlib-bound modules: ``module`` (RLModule), ``group_relative``
(group-relative learner), ``metrics`` (callback), ``trainer`` (``RouterTrainer``).
"""
