"""The explorer's views, one per module; each is a pane of the main tabbed layout."""
