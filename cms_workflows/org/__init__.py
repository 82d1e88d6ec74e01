"""Organisation (R-5.3): sites, the Annex A departments and positions, users, assignments.

`models` (tables), `service` (commands), `queries` (reads, and the directory access reads the organisation
through)."""
