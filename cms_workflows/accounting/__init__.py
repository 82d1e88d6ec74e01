"""Emissions accounting per GB/T 32150 (X-5, R-6.2.3, R-6.3, R-9.1, R-8.6).

Pure parts (no database): units, factors, calculation, importing, quality, baseline, pareto, charts.
Database parts: models (tables), service (commands), cli (`cms accounting …`).
"""

CODE_VERSION = "accounting-1"  # bump when a formula changes: stored with every calculation run
