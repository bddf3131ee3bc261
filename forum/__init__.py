"""forum: discussion backend for a harm-reduction family-coaching community."""

__version__ = "0.1.0"
