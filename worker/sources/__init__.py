"""SIS sources: reading a delivery (OneRoster bundle or mapped CSV) and mapping its columns."""
