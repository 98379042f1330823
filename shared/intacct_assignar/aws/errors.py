"""AWS refusing or lacking what a command run by an admin needs, said in one sentence with what to do.

Only for the command line's calls on a deployed stack (`--stack`): there the admin's own credentials, region and
permissions are in play, and the fix is theirs. The functions' calls keep AWS's own errors, for Lambda's retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

# AWS's codes for "these credentials may not do that".
_DENIED = {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"}


class AwsSetupError(Exception):
    """AWS lacks or refuses what a command needs (a stack, one of its outputs, a queue, credentials, a permission);
    the message names it and what to do. The command line exits 2, as for any other setting."""


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn AWS's failures while `doing` ("reading the upsert dead-letter queue") into `AwsSetupError`."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise AwsSetupError(_sentence(error, doing)) from error


def _sentence(error: BotoCoreError | ClientError, doing: str) -> str:
    if isinstance(error, NoCredentialsError):
        return (
            f"no AWS credentials for {doing}: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) "
            "for the account the tenant's stack is in"
        )
    if isinstance(error, NoRegionError):
        return f"no AWS region for {doing}: set AWS_REGION to the region the tenant's stack is in"
    if isinstance(error, EndpointConnectionError):
        return f"AWS could not be reached for {doing} ({error}): check the network and AWS_REGION"
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "")) or "an error"
        said = str(error.response.get("Error", {}).get("Message", "")).strip()
        words = f"{code}: {said}" if said else code
        if code in _DENIED:
            return (
                f"AWS refused {doing} ({words}): the credentials in use need that permission "
                "(DEPLOY.md lists what an admin needs)"
            )
        if code in _EXPIRED:
            return f"AWS refused the credentials for {doing} ({words}): sign in again (aws sso login) or renew them"
        if code.endswith("NonExistentQueue") or code == "QueueDoesNotExist":
            return f"AWS has no such queue for {doing} ({words}): the stack's outputs name a queue that is gone"
        return f"AWS refused {doing} ({words})"
    return f"AWS failed while {doing} ({error})"
