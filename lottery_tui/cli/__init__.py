"""The headless `lottery` command: everything the explorer can do, for scripts and tests."""

from __future__ import annotations
