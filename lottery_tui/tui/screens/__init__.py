"""Modal screens: help, model detail, export and the pair picker."""
