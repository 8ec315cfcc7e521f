"""Celery app and beat schedule, thin tasks, SIS sources and the ingest pipeline, ops CLI."""
