"""Recurring duties (X-3): the guide's periodic work as data (`policies/duties.yaml`), generated as
tasks, and the daily sweep that also reminds, escalates, mails and signs a checkpoint.

A domain above `tasks` (it creates tasks through the task commands) and below the bootstrap: the
subjects of duties — plan lines, instruments, obligations, risks, documents — come from sources the
bootstrap hands in (`bootstrap.duty_sources()`), so duties import no other domain.

`definitions` reads and checks the duties file, `sources` the subject sources, `generate` the
occurrences, `sweep` the daily sweep's steps. Duties have no table of their own: an occurrence is a
task, found again by its key.
"""
