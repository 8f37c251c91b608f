"""The ledger's kinds: for each kind of object a region must hold, how its desired
representation is sent, updated and deleted through regions.client, and what must reach the
region before it. The ledger looks a row's kind up here and never branches on it.

Adding a kind (tenant entitlements, security policy, logout, …) = one class registered below.
"""

from dataclasses import dataclass
from typing import ClassVar

from django.db.models import F

from regions import client
from regions.models import ProvisioningRecord
from regions.signals import record_synced

Kind = ProvisioningRecord.Kind


class DependencyPending(client.RegionError):
    """What the row references has not reached the region yet: the row waits (it is not a
    failure and costs no attempt) and is pushed again once its dependencies are synced."""

    def __init__(self, detail: str):
        super().__init__(detail, retryable=True)


class DependencyFailed(client.RegionError):
    """What the row references cannot reach the region (refused there for good, or being
    removed there): a retryable failure that counts attempts, so the row ends `failed` where an
    operator sees it instead of waiting unseen; it is woken when that dependency syncs. (A
    reference with no row yet is DependencyPending: renderers name only objects they provision.)"""

    def __init__(self, detail: str):
        super().__init__(detail, retryable=True)


@dataclass(frozen=True)
class Delivery:
    """What a kind reports back after a successful send."""

    remote_id: str


class LedgerKind:
    name: ClassVar[str]
    # Kinds whose rows (same tenant and region) must be synced before this kind's rows can be
    # sent; when one of them is synced, waiting rows of this kind are pushed again.
    depends_on: ClassVar[tuple[str, ...]] = ()

    def send(self, record: ProvisioningRecord) -> Delivery:
        """Make the region hold `record.desired` (create or update); idempotent."""
        raise NotImplementedError

    def delete(self, record: ProvisioningRecord) -> None:
        """Make the region not hold the object; one already gone counts as deleted."""
        raise NotImplementedError

    def references(self, desired: dict | None, kind: str, object_key: str) -> bool:
        """Whether this representation refers to that object (one of `depends_on`): a row
        waiting for it is woken when it syncs."""
        return False


class UserKind(LedgerKind):
    """A member: the SCIM User keyed by `externalId` = the person's public UUID."""

    name = Kind.USER

    def send(self, record: ProvisioningRecord) -> Delivery:
        remote = client.scim_user_upsert(
            machine_url=record.region.machine_url,
            tenant=record.tenant,
            resource=record.desired,
            remote_id=record.remote_id,
        )
        return Delivery(remote.remote_id)

    def delete(self, record: ProvisioningRecord) -> None:
        client.scim_user_delete(
            machine_url=record.region.machine_url,
            tenant=record.tenant,
            external_id=record.object_key,
            remote_id=record.remote_id,
        )


class GroupKind(LedgerKind):
    """An account group. Its desired representation names members by their user object keys
    (`members: [{"externalId": <public UUID>}]`), since only the region knows its own user ids.

    Contract: the representation recorded for a region names only members the account
    provisions there; a group is sent only once every member it references is synced in that
    region (their remote ids are then known), and fails visibly (counting attempts) while one
    of them is refused there or being removed there; membership changes go as a PATCH of
    `members` (RFC 7644 §3.5.2) against the last acknowledged representation, not as full
    replaces.
    """

    name = Kind.GROUP
    depends_on = (Kind.USER,)

    def references(self, desired: dict | None, kind: str, object_key: str) -> bool:
        members = (desired or {}).get("members") or []
        return kind == Kind.USER and any(
            isinstance(member, dict) and member.get("externalId") == object_key for member in members
        )

    def send(self, record: ProvisioningRecord) -> Delivery:
        desired = record.desired
        member_ids = self._member_remote_ids(record, desired)
        machine_url, tenant = record.region.machine_url, record.tenant
        if record.remote_id and record.acked is not None:
            acked_ids = self._member_remote_ids(record, record.acked, strict=False)
            renamed = desired["displayName"] != record.acked.get("displayName")
            patched = client.scim_group_patch(
                machine_url=machine_url,
                tenant=tenant,
                remote_id=record.remote_id,
                add_members=sorted(set(member_ids) - set(acked_ids)),
                remove_members=sorted(set(acked_ids) - set(member_ids)),
                display_name=desired["displayName"] if renamed else None,
            )
            if patched:
                return Delivery(record.remote_id)
        resource = {key: value for key, value in desired.items() if key != "members"}
        resource["members"] = [{"value": remote_id} for remote_id in member_ids]
        remote = client.scim_group_upsert(
            machine_url=machine_url, tenant=tenant, resource=resource, remote_id=record.remote_id
        )
        return Delivery(remote.remote_id)

    def delete(self, record: ProvisioningRecord) -> None:
        client.scim_group_delete(
            machine_url=record.region.machine_url,
            tenant=record.tenant,
            external_id=record.object_key,
            remote_id=record.remote_id,
        )

    @staticmethod
    def _member_remote_ids(
        record: ProvisioningRecord, representation: dict, *, strict: bool = True
    ) -> list[str]:
        keys = [m["externalId"] for m in representation.get("members", [])]
        if not keys:
            return []
        rows = ProvisioningRecord.objects.filter(
            kind=Kind.USER, tenant=record.tenant, region_id=record.region_id, object_key__in=keys
        ).values_list("object_key", "remote_id", "acked_version", "desired", "state")
        synced, blocked = {}, []
        for key, remote_id, acked_version, desired, state in rows:
            if desired is not None and acked_version > 0 and remote_id:
                synced[key] = remote_id
            elif desired is None or state == ProvisioningRecord.State.FAILED:
                blocked.append(key)  # being removed there, or refused there for good
        if strict and blocked:
            raise DependencyFailed(
                f"{len(blocked)} member(s) cannot reach this region (refused there, or being removed "
                "there); the group is sent once they are synced"
            )
        missing = [key for key in keys if key not in synced]
        if strict and missing:
            # On the way, or not recorded yet (a member row written in a later transaction).
            raise DependencyPending(f"Waiting for {len(missing)} member(s) to reach the region first")
        return [synced[key] for key in keys if key in synced]


class EntitlementsKind(LedgerKind):
    """A tenant's entitlements in one region: one document per tenant
    (`{"tenant": <slug>, "products": [{"code", "status", "ends_at"}, ...]}`), put whole to the
    tenant API. The ledger's version is the document's version: the region keeps the highest it
    was sent, so a late push of an older version cannot undo a newer one."""

    name = Kind.ENTITLEMENTS

    def send(self, record: ProvisioningRecord) -> Delivery:
        client.tenant_entitlements_put(
            machine_url=record.region.machine_url,
            tenant=record.tenant,
            document=record.desired,
            version=record.sent_version,
        )
        return Delivery(remote_id=record.object_key)

    def delete(self, record: ProvisioningRecord) -> None:
        # The region keeps its tenant (users, data) when the document goes: it must simply
        # enforce no product any more, and a versioned empty document says that idempotently.
        client.tenant_entitlements_put(
            machine_url=record.region.machine_url,
            tenant=record.tenant,
            document={"tenant": record.tenant, "products": []},
            version=record.sent_version,
        )


class PolicyKind(LedgerKind):
    """A tenant's security policy in one region: one document per tenant (object key = the
    tenant slug; accounts/security_policy.py renders it), put whole to the tenant API. It carries
    the policy's own version, which the region keeps monotonic, so every region names the same
    version as Atrium's page."""

    name = Kind.POLICY

    def send(self, record: ProvisioningRecord) -> Delivery:
        client.tenant_policy_put(
            machine_url=record.region.machine_url,
            tenant=record.tenant,
            document=record.desired,
            version=record.desired["version"],
        )
        return Delivery(remote_id=record.object_key)

    def delete(self, record: ProvisioningRecord) -> None:
        # Never recorded: a region the account leaves loses its users, and the last policy it
        # holds protects nothing any more; kept for the ledger's contract.
        return None


KINDS: dict[str, LedgerKind] = {}


def register(kind: LedgerKind) -> LedgerKind:
    KINDS[kind.name] = kind
    return kind


def kind_of(record: ProvisioningRecord) -> LedgerKind:
    try:
        return KINDS[record.kind]
    except KeyError:
        raise client.RegionError(f"No ledger kind {record.kind!r} is registered", retryable=False) from None


def kinds_depending_on(name: str) -> list[str]:
    return [kind.name for kind in KINDS.values() if name in kind.depends_on]


register(UserKind())
register(GroupKind())
register(EntitlementsKind())
register(PolicyKind())


# --- back-channel logout (issue 11) ---------------------------------------------------------------
class LogoutKind(LedgerKind):
    """A logout at Atrium a region must learn (OIDC Back-Channel Logout 1.0): `{"sub": <public
    UUID>, "sid": <Atrium session id, absent for "every session">}`, object key
    "<sub>:<sid>" (or "<sub>:all"), one row per region. The logout token is minted at each
    delivery attempt (regions.client), so a region that was down gets a fresh, unexpired one.
    A synced row has done its work and is deleted (below), so the ledger does not grow."""

    name = Kind.LOGOUT

    def send(self, record: ProvisioningRecord) -> Delivery:
        client.backchannel_logout_post(
            machine_url=record.region.machine_url,
            client_id=record.region.oidc_client_id,
            sub=record.desired.get("sub"),
            sid=record.desired.get("sid"),
        )
        return Delivery(remote_id="")

    def delete(self, record: ProvisioningRecord) -> None:
        return None  # never recorded: a logout is never taken back


register(LogoutKind())


def _logout_row_forget(sender, record: ProvisioningRecord, **kwargs) -> None:
    # Only while still synced at the version delivered: a logout recorded again meanwhile
    # (the same person signed out everywhere twice) stays to be sent.
    if record.kind == Kind.LOGOUT:
        ProvisioningRecord.objects.filter(
            pk=record.pk, state=ProvisioningRecord.State.SYNCED, acked_version=F("desired_version")
        ).delete()


record_synced.connect(_logout_row_forget, dispatch_uid="regions.kinds.logout_row_forget")
