"""Reading a OneRoster 1.1 / 1.2 REST API into a delivery the one ingest reads."""
