"""Atom feeds of threads: the published comments of a topic, for readers who follow a
discussion without an account (linked from the comment widget)."""
