"""The pure core of matching: plain records in, decisions and rankings out; no database, no I/O."""
