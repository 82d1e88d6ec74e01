"""Document control (R-7.5, X-4).

Configuration as data: registry (types, routes, templates). Pure parts: numbering, rendering.
Database parts: models (tables), service (register and lifecycle), imports (existing files),
distribution (acknowledgements), retention (disposition), output (controlled files), cli (`cms doc …`).
"""
