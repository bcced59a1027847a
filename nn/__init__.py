"""nn: neurons, layers, MLPs, losses, optimizers and toy data on top of engine."""
