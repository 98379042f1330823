"""Sage Intacct <-> Assignar integration: clients, domain services and Lambda wiring."""

__version__ = "0.1.0"
