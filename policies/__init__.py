"""Casbin model, permissions, vocabulary and approval routes: reviewed data, shipped as package data."""
