"""Stateful loopback emulators of Sage Intacct and Assignar that speak the real protocols, for tests and the demo."""
