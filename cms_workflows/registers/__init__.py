"""The guide's registers (issue 10, item 3): R-4.1 SWOT issues, R-4.2 interested parties, R-4.3 scope and
boundary (versioned), R-6.2.1 risks and opportunities (seeded with Annex B table B.1), R-6.2.2
compliance obligations, R-9.1 metering instruments.

`tabular` declares a register's columns once (export, template, import); `service` holds what every
register's commands share; each register's module declares its commands (through the command pipeline);
`queries` reads them, including what falls due for the duties generator."""
