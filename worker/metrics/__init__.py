"""Prometheus metrics: counts of the stored state read from the database at scrape time, and what
each process did (ingests, task failures and retries) in prometheus_client's multiprocess files.
Label values are district codes, statuses, reasons and task names: never a student's data."""
