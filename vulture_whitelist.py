# Names vulture cannot see being used: called by RLlib, Ray or a library by name, or
# fields written out whole (dataclasses.asdict). `make test` runs vulture with this file;
# it is parsed, never run.
# ruff: noqa

_.setup  # RLlib's RLModule API (rl/module.py)
_.action_dist_cls
_._forward
_.compute_values
_.configure_optimizers_for_module  # RLlib's Learner API (rl/group_relative.py)
_.on_sample_end  # RLlib's callback API (rl/metrics.py)
_.seekable  # pysoundfile calls it (data/audio_io.py _ForwardReader)
_.check_health  # Ray Serve calls it on each replica (serving/app.py)

# dataclass fields reported through asdict() (metrics.jsonl, MLflow, report.json)
_.no_tool_accuracy
_.mean_cost
_.tool_call_rate
_.env_steps_per_s
_.reward_name  # kept on the reward source for checkpoints and logs

# attributes set on library objects
_.enable_progress_bars  # ray.data.DataContext
_.intra_op_num_threads  # onnxruntime.SessionOptions
_.pre_tokenizer  # tokenizers.Tokenizer (testing/synthetic_models.py)
_.decoder
