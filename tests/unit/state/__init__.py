"""Contract tests for the state stores: one suite, both backends."""
