"""The NumPy array kernels: convolution, pooling, activations, merges, resampling and the
buffers and thread blocks they share.

They know arrays, not designs: nothing here imports the op registry, the analysis or the
engine's executor. That keeps the dependency one-way (the engine reads the registry, an op
names its kernel here, and the engine calls the same kernels for its fused band loops), which
the import contracts in pyproject.toml hold.
"""
