"""The guide's registers (issue 10, item 3): R-4.1 SWOT issues, R-4.2 interested parties, R-4.3 scope and
boundary (versioned), R-6.2.1 risks and opportunities (seeded with Annex B table B.1), R-6.2.2
compliance obligations, R-9.1 metering instruments; R-6.3.1 carbon performance parameters (seeded with
Annex F table F.1), R-6.3.3 objectives, R-6.3.4 action plans and their progress; R-6.4 planned changes;
R-7.2/7.3 competence, training plan and records; R-7.4 communication plan and disclosures; R-8.6 the data
quality control plan; R-8.7 carbon assets (holdings and movements). The R-8.1–8.5 operating criteria are
document types of the documents domain.

`tabular` declares a register's columns once (export, template, import); `service` holds what every
register's commands share; each register's module declares its commands (through the command pipeline);
`queries` reads them, including what falls due for the duties generator."""
