"""Form definitions (YAML) for the web app and the API."""
