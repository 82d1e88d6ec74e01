"""Tasks (X-3): human work items with a due date, reminders, escalation and evidence; their
notification outbox and calendar.

`models` the tables, `states` the lifecycles, `service` the commands on one task, `schedule` the
reminders and escalations a daily sweep runs, `routing` who a task or an escalation reaches,
`outbox` the notifications and their sender, `calendar` the iCalendar export, `queries` the reads.
"""
