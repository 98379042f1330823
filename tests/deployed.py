"""A deployed function's environment and secrets, made up in the right shapes: what a handler's import and its first
invocation read. One copy for the cold-import tests, the built-layers test and `benchmarks/cold_import.py`."""

from __future__ import annotations

# What Lambda itself sets that import-time code may read.
LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}

# What the template gives the functions (every function's variables at once, so each finds what it reads).
FUNCTION_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TENANT_ID": "acme",
    "STATE_TABLE": "acme-state",
    "IDEMPOTENCY_TABLE": "acme-idempotency",
    "POWERTOOLS_SERVICE_NAME": "intacct-assignar",
    "INTACCT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/intacct-AbCdEf",
    "INTACCT_EVENTS_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme-events-token-AbCdEf",
    "ASSIGNAR_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/assignar-AbCdEf",
    "UPSERT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/acme-upsert",
    "PARKED_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/acme-parked",
    "PUSH_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/acme-push",
    "EVENT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/acme-events",
}

# The secrets' settings, by the name `Runtime.secret` is given for each, and the variable holding each one's ARN.
SECRETS = {
    "Intacct": {
        "INTACCT_SENDER_ID": "sender",
        "INTACCT_SENDER_PASSWORD": "sender-password",
        "INTACCT_COMPANY_ID": "acme",
        "INTACCT_USER_ID": "integration",
        "INTACCT_USER_PASSWORD": "user-password",
    },
    "Smart Event token": {"INTACCT_EVENTS_TOKEN": "events-token-0123456789abcdef0123456789"},
    "Assignar": {
        "ASSIGNAR_CLIENT_ID": "client",
        "ASSIGNAR_CLIENT_SECRET": "client-secret",
        "ASSIGNAR_WEBHOOK_SECRET": "webhook-secret",
    },
}
SECRET_ARN_SETTINGS = {
    "Intacct": "INTACCT_SECRET_ARN",
    "Smart Event token": "INTACCT_EVENTS_TOKEN_SECRET_ARN",
    "Assignar": "ASSIGNAR_SECRET_ARN",
}


def secrets_by_arn() -> dict[str, dict[str, str]]:
    """Each secret's settings under the ARN its function is given."""
    return {FUNCTION_ENV[SECRET_ARN_SETTINGS[name]]: settings for name, settings in SECRETS.items()}
