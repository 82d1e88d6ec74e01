"""The daily sweep's deployment name and schedule (X-3), without importing Prefect: `cms serve` shows
them before Prefect's settings are pointed at the server it starts. prefect.yaml declares the same."""

DEPLOYMENT = "daily-sweep"
FLOW_NAME = "cms-daily-sweep"
CRON = "30 6 * * *"  # every day at 06:30 in the installation's time zone: before the working day
