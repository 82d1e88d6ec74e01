"""The PDCA processes as cases (issue 11; DESIGN "Processes, flows and people").

`models` (three tables for every process), `states` (their lifecycles), `registry` (each process's hooks,
automatic steps and triggers), `cases` (what every case does the same way), `engine` (moving cases on:
after a task, from the flows, in the daily sweep), `queries` (reads and the timeline); one module per
process: `carbon_review`, `compliance`, `internal_audit`, `management_review`, `corrective_action`,
`deviation`, each with its report builder in `reports_<process>` where it has one.
"""
