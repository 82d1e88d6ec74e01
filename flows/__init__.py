"""Prefect flows: thin orchestration over the service layer."""
