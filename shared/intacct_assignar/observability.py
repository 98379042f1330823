"""The one logger the functions share (Powertools: structured JSON, Lambda context, correlation ids)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

SERVICE = "intacct-assignar"

logger = Logger(service=SERVICE)
