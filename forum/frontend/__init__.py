"""The browser-facing side of the forum: static assets (content-addressed URLs), the page
security headers (one CSP builder), the string catalogue and the Jinja HTML shells shared by
the comment widget, the account pages and the moderators' console (docs/architecture.md)."""
