"""Router training with RLlib: the one-step routing env, the rewards registry, the RLlib
module, learners and metrics.

Light modules (no Ray import): ``rewards``, ``registry`` (rewards and algorithms, and
``check_train``), ``env``. RLlib-bound modules: ``module`` (RLModule), ``group_relative``
(group-relative learner), ``metrics`` (callback), ``trainer`` (``RouterTrainer``).
Imports ``router``, ``outcomes``, ``config`` and ``contracts``.
"""
