"""Sage Intacct <-> Assignar integration: clients, emulators, domain services and Lambda wiring."""

__version__ = "0.1.0"
