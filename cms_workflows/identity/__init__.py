"""Who is acting (issue 14, X-2): passwords, API tokens and delegations.

Services take the acting user as a name; the edges (the CLI, the web app) find that name
here, from a credential, never from a claim. See `service` for the commands and `queries`
for authentication.
"""
