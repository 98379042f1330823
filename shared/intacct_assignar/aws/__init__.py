"""Adapters to AWS services (SQS, Secrets Manager) behind the domain's small interfaces."""
