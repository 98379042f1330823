"""Inbound sync (Intacct -> Assignar): normalized records, the one place that maps their fields, pull and upsert."""
