"""The web application (issue 12): server-rendered pages and the JSON API under /api/v1.

An interface like the CLI: it parses requests, calls the same service commands and queries with the
signed-in user as actor, and renders what they return. It owns no permission of its own: every
decision is the access module's, and a refusal shows the positions that would be needed.
"""
