"""Outbound time: approved Assignar timesheets posted to Intacct exactly once."""
