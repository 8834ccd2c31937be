"""The explorer: a Textual TUI over the results store (never imports torch)."""
