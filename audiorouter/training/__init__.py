"""Training a router end to end (``driver.TrainingRun``): tool pass, train, evaluate, save,
with checkpoints and MLflow. Imports every role below it; never the study, serving or inference.
"""
