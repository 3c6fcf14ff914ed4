"""Reusable pane widgets. They never import `engine`: plain data in, messages out."""
