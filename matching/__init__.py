"""The matching engine: pure decisions over plain records, and the one place that applies a link."""
