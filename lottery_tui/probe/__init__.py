"""Probe engine: SSL checkpoints -> per-image predictions on ImageNet and its variants.

`job` runs one model x one dataset in a run directory; `ingest` moves a finished run into the store.
"""
