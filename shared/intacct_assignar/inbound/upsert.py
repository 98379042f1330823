"""The upsert: one sync message into Assignar — adopt what exists, skip what did not change, never delete.

A record already written with the same content costs no Assignar call at all (its content hash is in the
state store). An Assignar record with the same integration_id, else the same external_id/employee_id, is
adopted instead of duplicated. Links (client, project, role, user and employment types) are resolved to
Assignar ids first; a record whose dependency is not in Assignar yet raises `DependencyNotReady`, so the
queue retries it later instead of writing a dangling link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, ParamSpec, TypeVar

from ..assignar.errors import NotFoundError, ValidationError
from ..config import TenantConfig, WorkflowName
from ..outcomes import ParkForPerson, RetryLater
from ..state import StateStore, SyncedRecord
from .messages import SyncMessage
from .payloads import EXTERNAL_KEY, LinkSpec, links_needed, to_assignar
from .ports import AssignarResources, Fields, Stored, WorkflowResource, by_workflow
from .records import InboundRecord, MappingError

logger = logging.getLogger(__name__)

Action = Literal["created", "updated", "unchanged", "deactivated", "skipped"]
P = ParamSpec("P")
R = TypeVar("R")


# Marks the state of a record Intacct deleted (its hash field), so a late upsert cannot bring it back.
DELETED = "deleted:"
# Follows the content hash of a record written without some optional link: `<hash>~pending:task_id`.
PENDING = "~pending:"

# The id a dry run links to when the record linked to is not in Assignar yet (it would be created first).
DRY_RUN_PLACEHOLDER = 0


class DependencyNotReady(RetryLater):
    """A record links to one that is not in Assignar yet: retry the message later."""


class UpsertRefused(ParkForPerson):
    """The record cannot be written as it is (bad data, a missing setting): retrying will not help."""


@dataclass
class UpsertResult:
    workflow: str
    integration_id: str
    source_id: str | None
    action: Action
    assignar_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (in Assignar, from Intacct)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UpsertService:
    """Writes normalized records into Assignar (the client, or any other `AssignarResources`); knows nothing of
    Lambda or SQS."""

    def __init__(
        self,
        assignar: AssignarResources,
        state: StateStore,
        config: TenantConfig,
        *,
        dry_run: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.assignar = assignar
        self._resources = by_workflow(assignar)
        self.state = state
        self.config = config
        self.dry_run = dry_run
        self.clock = clock
        # Lookups that do not change during a run: user/employment types by name, a project's client.
        self._type_ids: dict[str, dict[str, int]] = {}
        self._project_clients: dict[int, int | None] = {}
        # Assignar records found (or known absent: None) by prefetch, per (workflow, integration_id).
        self._found: dict[tuple[str, str], Stored | None] = {}
        # What prefetch read from the state store for this batch, so each record is not read again.
        self._synced: dict[tuple[str, str], SyncedRecord] = {}
        # Link targets Assignar did not have, per (workflow, Intacct ID): a worker whose position names no
        # labor item would otherwise cost a lookup per worker. Forgotten per batch, and when one is written.
        self._absent: set[tuple[str, str]] = set()

    def prefetch(self, messages: Sequence[SyncMessage]) -> None:
        """Look up, in a few list calls, the Assignar records these messages may adopt or deactivate.

        Without it each new record costs two lookups (by integration_id, then by Intacct ID) before its create;
        with it a batch of records costs two list calls per workflow in all.
        """
        self._absent.clear()
        self._found.clear()
        self._synced.clear()
        by_workflow: dict[WorkflowName, list[SyncMessage]] = {}
        for message in messages:
            by_workflow.setdefault(message.workflow, []).append(message)
        for workflow, batch in by_workflow.items():
            known = self.state.get_synced(workflow, [m.integration_id for m in batch])
            self._synced.update({(workflow, key): record for key, record in known.items()})
            # New records may be adopted; verifying ones are compared with what Assignar holds now.
            fresh = [m for m in batch if m.integration_id not in known or m.verify]
            if not fresh:
                continue
            resource = self._resource(workflow)
            by_integration = resource.index_by("integration_id", [m.integration_id for m in fresh])
            key = EXTERNAL_KEY[workflow]
            wanted = {m.record.source_id: m.integration_id for m in fresh if m.record is not None}
            by_source = resource.index_by(key, list(wanted)) if key is not None and wanted else {}
            for message in fresh:
                source_id = message.record.source_id if message.record is not None else None
                found = by_integration.get(message.integration_id)
                if found is None and source_id is not None:
                    found = by_source.get(source_id)
                self._found[(workflow, message.integration_id)] = found

    def apply(self, message: SyncMessage) -> UpsertResult:
        if message.kind == "deactivate":
            return self._deactivate(message.workflow, message.integration_id, message.reason or "deleted in Intacct")
        record = message.record
        assert record is not None  # guaranteed by SyncMessage's validation
        return self.upsert(record, verify=message.verify)

    def upsert(self, record: InboundRecord, *, verify: bool = False) -> UpsertResult:
        """Write one record. `verify` compares with Assignar's current record even when the content is what we
        last wrote, so a hand edit in Assignar is put right (a full pull asks for it)."""
        workflow = record.workflow
        digest = record.content_hash()
        synced = self._synced_record(workflow, record.integration_id)
        if synced is not None and synced.content_hash == digest and not verify:
            return UpsertResult(workflow, record.integration_id, record.source_id, "unchanged", synced.assignar_id)
        # Written before without an optional link (a worker's role not yet in Assignar): same content, so only
        # a link that now resolves is worth a write.
        links_pending = synced is not None and synced.content_hash.startswith(digest + PENDING)
        if (
            synced is not None
            and synced.modified_at is not None
            and record.modified_at is not None
            and record.modified_at < synced.modified_at
        ):
            # SQS keeps no order: a version read before the one already written arrived late.
            return UpsertResult(
                workflow, record.integration_id, record.source_id, "skipped", synced.assignar_id, reason="older version"
            )
        if synced is not None and synced.content_hash.startswith(DELETED) and record.active:
            # SQS does not keep order: an upsert pulled before the record was deleted in Intacct can arrive
            # after its deletion. A deleted RECORDNO never comes back (Intacct gives a new record a new one).
            return UpsertResult(
                workflow, record.integration_id, record.source_id, "skipped", synced.assignar_id, reason="deleted"
            )
        resource = self._resource(workflow)
        existing_id = synced.assignar_id if synced is not None else None
        current: Stored | None = None
        if existing_id is not None and verify:
            current = self._current(workflow, record.integration_id, existing_id)
            existing_id = current.id if current is not None else None  # gone from Assignar: created again
        elif existing_id is None:
            current = self._adopt(workflow, record.integration_id, record.source_id)
            existing_id = current.id if current is not None else None
        if existing_id is None and not record.active:
            # Nothing to deactivate: an inactive or filtered-out record is never created.
            return UpsertResult(
                workflow, record.integration_id, record.source_id, "skipped", reason=record.inactive_reason
            )
        links = self._links(record)
        missing = sorted(s.field for s in links_needed(record) if not s.required and s.field not in links)
        # The stored hash says which optional links were missing, so a later run fills them in.
        digest = f"{digest}{PENDING}{','.join(missing)}" if missing else digest
        if links_pending and synced is not None and synced.content_hash == digest and not verify:
            return UpsertResult(workflow, record.integration_id, record.source_id, "unchanged", synced.assignar_id)
        try:
            payload = dict(to_assignar(record, links, self.config))
        except MappingError as exc:
            raise UpsertRefused(str(exc)) from exc
        if existing_id is None:
            if self.dry_run:
                return UpsertResult(
                    workflow,
                    record.integration_id,
                    record.source_id,
                    "created",
                    changes={k: (None, v) for k, v in payload.items()},
                )
            try:
                created = self._assignar_call(resource.create, payload)
            except UpsertRefused:
                # Another consumer may have created it a moment ago (Assignar keeps integration_id unique):
                # adopt that one and write this version over it, rather than park a record that exists.
                raced = resource.find_by("integration_id", record.integration_id)
                if raced is None:
                    raise
                self._assignar_call(resource.update, raced.id, payload)
                self._remember(record, raced.id, digest)
                return UpsertResult(workflow, record.integration_id, record.source_id, "updated", raced.id)
            self._remember(record, created.id, digest)
            return UpsertResult(workflow, record.integration_id, record.source_id, "created", created.id)
        if current is None and self.dry_run:
            current = resource.get(existing_id)
        changes = _changes(current, payload) if current is not None else {k: (None, v) for k, v in payload.items()}
        action: Action = "deactivated" if not record.active and (current is None or current.active) else "updated"
        if current is not None and not changes:
            action = "unchanged"
        elif not self.dry_run:
            # Only what differs when we know the current record; the whole mapped record otherwise.
            changed = {k: v for k, v in payload.items() if current is None or k in changes}
            self._assignar_call(resource.update, existing_id, changed)
        if not self.dry_run:
            self._remember(record, existing_id, digest)
        return UpsertResult(
            workflow,
            record.integration_id,
            record.source_id,
            action,
            existing_id,
            changes=changes,
            reason=record.inactive_reason,
        )

    # --- pieces ------------------------------------------------------------------------------------------

    def _deactivate(self, workflow: WorkflowName, integration_id: str, reason: str) -> UpsertResult:
        synced = self._synced_record(workflow, integration_id)
        assignar_id = synced.assignar_id if synced is not None else None
        if assignar_id is None:
            if (workflow, integration_id) in self._found:
                found = self._found[(workflow, integration_id)]
            else:
                found = self._resource(workflow).find_by("integration_id", integration_id)
            assignar_id = found.id if found is not None else None
        if assignar_id is None:
            return UpsertResult(workflow, integration_id, None, "skipped", reason=f"{reason}; never in Assignar")
        if synced is not None and not synced.active:
            return UpsertResult(workflow, integration_id, synced.source_id, "unchanged", assignar_id, reason=reason)
        if not self.dry_run:
            self._assignar_call(self._resource(workflow).update, assignar_id, {"active": False})
            self._synced.pop((workflow, integration_id), None)
            if synced is not None:
                self.state.put_synced(
                    SyncedRecord(
                        workflow,
                        integration_id,
                        synced.source_id,
                        assignar_id,
                        f"{DELETED}{reason}",
                        False,
                        self.clock(),
                    )
                )
        source_id = synced.source_id if synced is not None else None
        return UpsertResult(
            workflow, integration_id, source_id, "deactivated", assignar_id, {"active": (True, False)}, reason
        )

    def _current(self, workflow: WorkflowName, integration_id: str, assignar_id: int) -> Stored | None:
        """Assignar's record as it is now: from the batch's prefetch, else read by id; None if it was deleted."""
        found = self._found.get((workflow, integration_id))
        if found is not None and found.id == assignar_id:
            return found
        try:
            return self._resource(workflow).get(assignar_id)
        except NotFoundError:
            return None

    def _adopt(self, workflow: WorkflowName, integration_id: str, source_id: str) -> Stored | None:
        """An Assignar record made earlier (by us, or by hand with the Intacct ID): by integration_id, else ID."""
        if (workflow, integration_id) in self._found:
            return self._found[(workflow, integration_id)]
        resource = self._resource(workflow)
        found = resource.find_by("integration_id", integration_id)
        key = EXTERNAL_KEY[workflow]
        if found is None and key is not None:
            found = resource.find_by(key, source_id)
        return found

    def _links(self, record: InboundRecord) -> dict[str, int]:
        links: dict[str, int] = {}
        for spec in links_needed(record):
            resolved = self._resolve(spec)
            if resolved is not None:
                links[spec.field] = resolved
            elif spec.required and self.dry_run:
                # A preview writes nothing, so what this run would create is not there to link to: plan the
                # write anyway, against a stand-in id, rather than report every dependant as waiting.
                links[spec.field] = DRY_RUN_PLACEHOLDER
            elif spec.required:
                raise DependencyNotReady(
                    f"{record.workflow} {record.source_id} waits for {spec.target} {spec.key} to be in Assignar"
                )
        return links

    def _resolve(self, spec: LinkSpec) -> int | None:
        if spec.target in ("user_types", "employment_types"):
            return self._type_id(spec.target, spec.key)
        target: WorkflowName = spec.target  # type: ignore[assignment]  # the other targets are workflows
        synced = self.state.get_synced_by_source(target, [spec.key]).get(spec.key)
        assignar_id = synced.assignar_id if synced is not None and synced.active else None
        if assignar_id is None and (target, spec.key) not in self._absent:
            key = EXTERNAL_KEY[target]
            found = self._resource(target).find_by(key, spec.key) if key is not None else None
            assignar_id = found.id if found is not None else None
            if assignar_id is None:
                self._absent.add((target, spec.key))
        if assignar_id is None or spec.attribute == "id":
            return assignar_id
        if spec.attribute == "client_id":
            if assignar_id not in self._project_clients:
                project = self.assignar.projects.get(assignar_id)
                self._project_clients[assignar_id] = project.client_id
            client_id = self._project_clients[assignar_id]
            if client_id is None:
                raise UpsertRefused(
                    f"project {spec.key} has no customer, and Assignar work orders need a client: give the "
                    "project a customer in Intacct"
                )
            return client_id
        raise ValueError(f"cannot resolve {spec.attribute} of {spec.target}")

    def _type_id(self, kind: str, name: str) -> int | None:
        if kind not in self._type_ids:
            by_name: dict[str, int] = {}
            if kind == "user_types":
                for user_type in self.assignar.user_types.list():
                    # Assignar shows a label ("Worker") beside its code ("mobile_user"): either names it.
                    for label in (user_type.label, user_type.user_type):
                        if label:
                            by_name.setdefault(label.lower(), user_type.id)
            else:
                for employment in self.assignar.employment_types.list():
                    if employment.name:
                        by_name.setdefault(employment.name.lower(), employment.id)
            self._type_ids[kind] = by_name
        return self._type_ids[kind].get(name.lower())

    def _synced_record(self, workflow: str, integration_id: str) -> SyncedRecord | None:
        if (workflow, integration_id) in self._synced:
            return self._synced[(workflow, integration_id)]
        return self.state.get_synced(workflow, [integration_id]).get(integration_id)

    @staticmethod
    def _assignar_call(call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """An Assignar write; its refusals (validation, constraints, not found) become `UpsertRefused` with
        Assignar's own words. Rate limits, server errors and lost answers pass through, to be retried."""
        try:
            return call(*args, **kwargs)
        except (ValidationError, NotFoundError) as exc:
            raise UpsertRefused(f"Assignar refused it: {exc}") from exc

    def _remember(self, record: InboundRecord, assignar_id: int, digest: str) -> None:
        self._absent.discard((record.workflow, record.source_id))
        self._synced.pop((record.workflow, record.integration_id), None)
        self.state.put_synced(
            SyncedRecord(
                record.workflow,
                record.integration_id,
                record.source_id,
                assignar_id,
                digest,
                record.active,
                self.clock(),
                record.modified_at,
            )
        )

    def _resource(self, workflow: WorkflowName) -> WorkflowResource[Stored]:
        return self._resources[workflow]


def _changes(current: Stored, payload: Fields) -> dict[str, tuple[Any, Any]]:
    """Fields whose Assignar value differs from what Intacct says (absent and empty count as the same)."""
    changes = {}
    for name, wanted in payload.items():
        have = getattr(current, name, None)
        if isinstance(wanted, list) and isinstance(have, list):
            have = [item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else item for item in have]
            have = [{k: v for k, v in item.items() if k in ("task_id",)} for item in have]
        if _same(have, wanted):
            continue
        changes[name] = (have, wanted)
    return changes


def _same(have: Any, wanted: Any) -> bool:
    if have in (None, "") and wanted in (None, ""):
        return True
    if (isinstance(have, (int, float)) and isinstance(wanted, str)) or (
        isinstance(have, str) and isinstance(wanted, (int, float))
    ):
        return str(have) == str(wanted)
    return bool(have == wanted)
