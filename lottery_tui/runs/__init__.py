"""Runs at scale: plans of models x datasets, executors that launch detached probe jobs, and the
registry that follows them through their run directories and ingests finished results once.

Jobs never write the store: they write run directories (see docs/architecture.md); the CLI and the
TUI read those directories and ingest. Nothing here imports torch or textual.
"""
