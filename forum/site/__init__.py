"""What a client (the comment widget) needs before it writes: the public site document and
the Markdown preview."""
