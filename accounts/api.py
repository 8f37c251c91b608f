"""REST API (DRF) for an account's members, groups and audit log: thin adapters over the same
services and selectors the pages use, so the permission table, the audit log and the
provisioning ledger hold for API callers exactly as for the UI.

Authentication: the portal session (with CSRF) or an Atrium OIDC access token (Bearer) whose
scope includes `atrium:api`, acting as the person it was issued to. Every URL is under
`/api/v1/accounts/<slug>/`; an account the caller does not belong to is a 404, a role without
the right a 403, bad input a 400 with a JSON body naming the fields.
"""

from datetime import date

from allauth.idp.oidc.contrib.rest_framework.authentication import TokenAuthentication
from allauth.idp.oidc.models import Token
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from accounts import groups as group_services
from accounts import invitations as invitation_services
from accounts import permissions, selectors, services
from accounts.invitations_csv import InvitationImportError
from accounts.models import AuditEvent, Group, Invitation, Membership
from regions.models import Region
from regions.selectors import regions_of_account

API_SCOPE = "atrium:api"


# --- plumbing -----------------------------------------------------------------------------------
def api_exception_handler(exc, context):
    """Django's ValidationError and PermissionDenied from the services become 400 / 403 JSON;
    a refused CSV lists every bad row with its line."""
    if isinstance(exc, InvitationImportError):
        rows = [{"line": row.line, "email": row.email, "problems": list(row.messages)} for row in exc.rows]
        return Response({"detail": "Nothing was imported.", "rows": rows}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ApiValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = ApiPermissionDenied(str(exc) or "Not allowed.")
    return exception_handler(exc, context)


class BearerTokenAuthentication(TokenAuthentication):
    """allauth's access-token authentication; the header says how to authenticate on a 401."""

    def authenticate_header(self, request):
        return 'Bearer realm="atrium"'


class SignedInWithApiScope(BasePermission):
    """A person: by session, or by an access token granted the `atrium:api` scope."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            raise NotAuthenticated()
        token = request.auth
        if isinstance(token, Token):
            return API_SCOPE in token.get_scopes()
        return True


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.BearerTokenAuthentication"
    name = "atriumBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


def _query(*names: str) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, str, required=False) for name in names]


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AccountAPIView(APIView):
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [SignedInWithApiScope]

    def get_exception_handler(self):
        return api_exception_handler

    def membership(self, slug: str) -> Membership:
        """The caller's active membership (404 for an account they are not in; a suspended
        membership is a 403, as on the pages)."""
        try:
            return selectors.membership_for_page(user=self.request.user, slug=slug)
        except selectors.MembershipUnavailable as exc:
            raise ApiPermissionDenied(str(exc)) from exc

    def page(self, queryset, serializer_class):
        paginator = Pages()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _require(membership: Membership, action: str) -> None:
    if not permissions.can(membership, action):
        raise ApiPermissionDenied(f"Your role does not allow this ({action}).")


# --- members ------------------------------------------------------------------------------------
class MemberSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    user_id = serializers.UUIDField(source="user.public_id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    regions = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "first_name", "last_name", "role", "status", "all_regions",
                  "regions", "created_at"]  # fmt: skip

    def get_regions(self, membership) -> list[str] | str:
        if membership.all_regions:
            return "all"
        return sorted(region.code for region in membership.regions.all())


class DirectoryEntrySerializer(serializers.ModelSerializer):
    """What every member of the account may see of the others."""

    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role"]


class MemberChangeSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    status = serializers.ChoiceField(
        choices=[Membership.Status.ACTIVE, Membership.Status.SUSPENDED], required=False
    )
    regions = serializers.JSONField(required=False, help_text='"all", or a list of region codes')


def _members_queryset(account, params, *, admin_view: bool):
    queryset = Membership.objects.filter(account=account).select_related("user").order_by("user__email")
    if admin_view:
        queryset = queryset.prefetch_related("regions")
    else:
        queryset = queryset.filter(status=Membership.Status.ACTIVE)
    search = (params.get("search") or "").strip()
    if search:
        queryset = queryset.filter(
            Q(user__email__icontains=search) | Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
        )  # fmt: skip
    if params.get("role") in Membership.Role.values:
        queryset = queryset.filter(role=params["role"])
    if admin_view and params.get("status") in Membership.Status.values:
        queryset = queryset.filter(status=params["status"])
    return queryset


class MembersAPI(AccountAPIView):
    """GET: the account's members (admins and read-only see status and region access; others
    the directory). `?search=&role=&status=&page=`. People join by invitation."""

    @extend_schema(
        operation_id="members_list",
        parameters=_query("search", "role", "status", "page"),
        responses=MemberSerializer(many=True),
    )
    def get(self, request, slug: str):
        membership = self.membership(slug)
        admin_view = permissions.can(membership, "members.view_admin")
        queryset = _members_queryset(membership.account, request.query_params, admin_view=admin_view)
        return self.page(queryset, MemberSerializer if admin_view else DirectoryEntrySerializer)


class MemberAPI(AccountAPIView):
    """GET one member; PATCH names, role, status (active/suspended) or region access; DELETE
    removes them from the account and every region (202 while regions confirm)."""

    def _target(self, slug: str, member_id: int):
        membership = self.membership(slug)
        target = selectors.member_of_account(account=membership.account, membership_id=member_id)
        return membership, target

    @extend_schema(operation_id="member_get", responses=MemberSerializer)
    def get(self, request, slug: str, member_id: int):
        membership, target = self._target(slug, member_id)
        if permissions.can(membership, "members.view_admin"):
            return Response(MemberSerializer(target).data)
        if not target.is_active:
            raise Http404("No such member")
        return Response(DirectoryEntrySerializer(target).data)

    @extend_schema(operation_id="member_change", request=MemberChangeSerializer, responses=MemberSerializer)
    def patch(self, request, slug: str, member_id: int):
        actor, target = self._target(slug, member_id)
        _require(actor, "members.manage")
        change = MemberChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        data = change.validated_data
        if not data:
            raise ApiValidationError({"detail": "Nothing to change."})
        # All of it or nothing: a refused part (a bad region, an owner role) undoes the rest.
        with transaction.atomic():
            target = self._apply(actor, target, data)
        target = Membership.objects.select_related("user").prefetch_related("regions").get(pk=target.pk)
        return Response(MemberSerializer(target).data)

    @staticmethod
    def _apply(actor: Membership, target: Membership, data: dict) -> Membership:
        if "first_name" in data or "last_name" in data:
            target = services.member_rename(
                actor=actor, membership=target,
                first_name=data.get("first_name", target.user.first_name),
                last_name=data.get("last_name", target.user.last_name),
            )  # fmt: skip
        if "role" in data:
            target = services.member_role_change(actor=actor, membership=target, role=data["role"])
        if "regions" in data:
            all_regions, regions = _parse_regions(data["regions"], actor.account)
            target = services.member_region_access_set(
                actor=actor, membership=target, all_regions=all_regions, regions=regions
            )
        if "status" in data:
            action = services.member_suspend if data["status"] == "suspended" else services.member_reactivate
            target = action(actor=actor, membership=target)
        return target

    @extend_schema(operation_id="member_remove", responses={202: dict, 204: None})
    def delete(self, request, slug: str, member_id: int):
        actor, target = self._target(slug, member_id)
        _require(actor, "members.manage")
        removal = services.member_remove(actor=actor, membership=target)
        if removal.unconfirmed:
            return Response({"status": "removing", "unconfirmed_regions": removal.unconfirmed},
                            status=status.HTTP_202_ACCEPTED)  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


def _parse_regions(value, account) -> tuple[bool, list[Region]]:
    if value == "all":
        return True, []
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ApiValidationError({"regions": '"all", or a list of region codes.'})
    used = {region.code: region for region in regions_of_account(account_id=account.pk)}
    unknown = sorted(set(value) - set(used))
    if unknown:
        raise ApiValidationError({"regions": f"Not regions of this account: {', '.join(unknown)}."})
    return False, [used[code] for code in value]


class OwnershipTransferAPI(AccountAPIView):
    """POST: the calling owner makes this member the owner and becomes an admin."""

    @extend_schema(
        operation_id="ownership_transfer",
        request=None,
        responses=inline_serializer("OwnerTransferred", {"owner": serializers.EmailField()}),
    )
    def post(self, request, slug: str, member_id: int):
        actor = self.membership(slug)
        target = selectors.member_of_account(account=actor.account, membership_id=member_id)
        services.ownership_transfer(actor=actor, to=target)
        return Response({"owner": target.user.email})


# --- groups -------------------------------------------------------------------------------------
class GroupSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    external_id = serializers.UUIDField(source="public_id", read_only=True)
    member_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Group
        fields = ["id", "external_id", "name", "description", "member_count", "created_at"]
        read_only_fields = ["created_at"]


class GroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)


class GroupMembersSerializer(serializers.Serializer):
    member_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False, max_length=1000)


def _groups_with_counts(account):
    counted = Count("links", filter=~Q(links__membership__status=Membership.Status.REMOVING))
    return Group.objects.filter(account=account).annotate(member_count=counted).order_by("name")


class GroupsAPI(AccountAPIView):
    """GET the account's groups; POST {name, description} creates one (pushed to every region)."""

    @extend_schema(operation_id="groups_list", responses=GroupSerializer(many=True))
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "groups.view")
        return self.page(_groups_with_counts(membership.account), GroupSerializer)

    @extend_schema(
        operation_id="group_create", request=GroupWriteSerializer, responses={201: GroupSerializer}
    )
    def post(self, request, slug: str):
        actor = self.membership(slug)
        _require(actor, "groups.manage")
        data = GroupWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = group_services.group_create(account=actor.account, actor=actor, **data.validated_data)
        return Response(GroupSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupAPI(AccountAPIView):
    """GET a group with its members; PATCH {name, description}; DELETE (removed from every region)."""

    def _group(self, slug: str, group_id: int):
        membership = self.membership(slug)
        _require(membership, "groups.view")
        return membership, group_services.group_of_account(account=membership.account, group_id=group_id)

    @extend_schema(operation_id="group_get", responses=GroupSerializer)
    def get(self, request, slug: str, group_id: int):
        membership, group = self._group(slug, group_id)
        # As on the group page: members being removed are gone already, and only those who may
        # see statuses see suspended ones.
        members = group_services.group_members(group=group)
        if not permissions.can(membership, "members.view_admin"):
            members = members.filter(status=Membership.Status.ACTIVE)
        body = GroupSerializer(group).data
        body["members"] = DirectoryEntrySerializer(members, many=True).data
        return Response(body)

    @extend_schema(operation_id="group_change", request=GroupWriteSerializer, responses=GroupSerializer)
    def patch(self, request, slug: str, group_id: int):
        actor, group = self._group(slug, group_id)
        _require(actor, "groups.manage")
        data = GroupWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        name = data.validated_data.get("name", group.name)
        group = group_services.group_update(
            group=group, actor=actor, name=name, description=data.validated_data.get("description")
        )
        return Response(GroupSerializer(group).data)

    @extend_schema(operation_id="group_delete", responses={204: None})
    def delete(self, request, slug: str, group_id: int):
        actor, group = self._group(slug, group_id)
        _require(actor, "groups.manage")
        group_services.group_delete(group=group, actor=actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersAPI(AccountAPIView):
    """POST {member_ids} adds members; DELETE {member_ids} removes them (PATCH of `members` in
    every region)."""

    def _parse(self, slug: str, group_id: int):
        actor = self.membership(slug)
        _require(actor, "groups.manage")
        group = group_services.group_of_account(account=actor.account, group_id=group_id)
        data = GroupMembersSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["member_ids"]
        found = list(Membership.objects.filter(account=actor.account, pk__in=ids).select_related("user"))
        if len(found) != len(set(ids)):
            raise ApiValidationError({"member_ids": "Every id must be a member of this account."})
        return actor, group, found

    @extend_schema(
        operation_id="group_members_add",
        request=GroupMembersSerializer,
        responses=inline_serializer("MembersAdded", {"added": serializers.IntegerField()}),
    )
    def post(self, request, slug: str, group_id: int):
        actor, group, found = self._parse(slug, group_id)
        added = group_services.group_members_add(group=group, actor=actor, memberships=found)
        return Response({"added": added})

    @extend_schema(
        operation_id="group_members_remove",
        request=GroupMembersSerializer,
        responses=inline_serializer("MembersRemoved", {"removed": serializers.IntegerField()}),
    )
    def delete(self, request, slug: str, group_id: int):
        actor, group, found = self._parse(slug, group_id)
        removed = group_services.group_members_remove(group=group, actor=actor, memberships=found)
        return Response({"removed": removed})


# --- invitations --------------------------------------------------------------------------------
class InvitationSerializer(serializers.ModelSerializer):
    """Never carries the link: only the invitee's mail does."""

    id = serializers.IntegerField(read_only=True)
    state = serializers.SerializerMethodField()
    regions = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = [
            "id", "email", "first_name", "last_name", "role", "state", "regions", "groups", "invited_by",
            "created_at", "expires_at", "last_sent_at", "send_count", "accepted_at",
        ]  # fmt: skip

    def get_state(self, invitation) -> str:
        return "expired" if invitation.is_expired else invitation.status

    def get_regions(self, invitation) -> list[str] | str:
        return "all" if invitation.all_regions else [region.code for region in invitation.regions.all()]

    def get_groups(self, invitation) -> list[str]:
        return [group.name for group in invitation.groups.all()]


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    regions = serializers.JSONField(required=False, help_text='"all" (default), or a list of region codes')
    groups = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class InvitationsAPI(AccountAPIView):
    """GET the account's invitations (`?state=pending|expired|accepted|revoked&search=`); POST
    invites one person (the invitation mail is sent; the link is never in the response)."""

    @extend_schema(
        operation_id="invitations_list",
        parameters=_query("state", "search", "page"),
        responses=InvitationSerializer(many=True),
    )
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "members.view_admin")
        state = request.query_params.get("state") or None
        if state is not None and state not in invitation_services.STATUS_FILTERS:
            raise ApiValidationError({"state": f"One of {', '.join(invitation_services.STATUS_FILTERS)}."})
        queryset = invitation_services.invitations_of_account(
            account=membership.account, status=state, search=request.query_params.get("search", "").strip()
        )
        return self.page(queryset, InvitationSerializer)

    @extend_schema(
        operation_id="invitation_create",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer},
    )
    def post(self, request, slug: str):
        actor = self.membership(slug)
        _require(actor, "members.invite")
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        regions = None
        if "regions" in values:
            all_regions, chosen = _parse_regions(values.pop("regions"), actor.account)
            regions = None if all_regions else chosen
        group_ids = values.pop("groups")
        groups = list(Group.objects.filter(account=actor.account, pk__in=group_ids))
        if len(groups) != len(set(group_ids)):
            raise ApiValidationError({"groups": "Every id must be a group of this account."})
        invitation = invitation_services.invitation_create(
            account=actor.account, actor=actor, regions=regions, groups=groups, **values
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationsImportAPI(AccountAPIView):
    """POST a CSV file (multipart field `file`): everyone in it is invited, or — when any row is
    bad — nothing is, and the answer lists every bad row with its line number."""

    @extend_schema(
        operation_id="invitations_import",
        request={"multipart/form-data": inline_serializer("CsvUpload", {"file": serializers.FileField()})},
        responses={201: InvitationSerializer(many=True)},
    )
    def post(self, request, slug: str):
        actor = self.membership(slug)
        _require(actor, "members.invite")
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiValidationError({"file": "Upload a CSV file in the field `file`."})
        result = invitation_services.invitations_import_csv(account=actor.account, actor=actor, file=upload)
        return Response(
            InvitationSerializer(result.invitations, many=True).data, status=status.HTTP_201_CREATED
        )


class _OneInvitation(AccountAPIView):
    def _invitation(self, slug: str, invitation_id: int, action: str):
        membership = self.membership(slug)
        _require(membership, action)
        invitation = invitation_services.invitation_of_account(
            account=membership.account, invitation_id=invitation_id
        )
        return membership, invitation


class InvitationAPI(_OneInvitation):
    """GET one invitation; DELETE revokes it (its link stops working)."""

    @extend_schema(operation_id="invitation_get", responses=InvitationSerializer)
    def get(self, request, slug: str, invitation_id: int):
        _, invitation = self._invitation(slug, invitation_id, "members.view_admin")
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(operation_id="invitation_revoke", responses=InvitationSerializer)
    def delete(self, request, slug: str, invitation_id: int):
        actor, invitation = self._invitation(slug, invitation_id, "members.invite")
        invitation = invitation_services.invitation_revoke(invitation=invitation, actor=actor)
        return Response(InvitationSerializer(invitation).data)


class InvitationResendAPI(_OneInvitation):
    """POST: a new link (the old one stops working) and a new expiry, mailed again."""

    @extend_schema(operation_id="invitation_resend", request=None, responses=InvitationSerializer)
    def post(self, request, slug: str, invitation_id: int):
        actor, invitation = self._invitation(slug, invitation_id, "members.invite")
        invitation = invitation_services.invitation_resend(invitation=invitation, actor=actor)
        return Response(InvitationSerializer(invitation).data)


# --- audit log ----------------------------------------------------------------------------------
class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor_email", "action", "target_type", "target_id", "target_label",
                  "before", "after", "ip", "user_agent"]  # fmt: skip


class AuditAPI(AccountAPIView):
    """GET the account's audit log, newest first: `?actor=&action=&target=&since=&until=`
    (ISO dates). Read-only: nothing edits or deletes audit rows."""

    @extend_schema(
        operation_id="audit_list",
        parameters=_query("actor", "action", "target", "since", "until", "page"),
        responses=AuditEventSerializer(many=True),
    )
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "audit.view")
        params = request.query_params
        queryset = AuditEvent.objects.filter(account=membership.account)
        if params.get("actor"):
            queryset = queryset.filter(actor_email__icontains=params["actor"])
        if params.get("action"):
            queryset = queryset.filter(action=params["action"])
        if params.get("target"):
            queryset = queryset.filter(target_label__icontains=params["target"])
        for name, lookup in (("since", "created_at__date__gte"), ("until", "created_at__date__lte")):
            if params.get(name):
                queryset = queryset.filter(**{lookup: _iso_date(name, params[name])})
        return self.page(queryset.order_by("-created_at", "-id"), AuditEventSerializer)


def _iso_date(name: str, value: str):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiValidationError({name: "Use a date such as 2026-12-01."}) from None


class MyAccountsAPI(APIView):
    """GET: the caller's open accounts with their role (the account switcher's data)."""

    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [SignedInWithApiScope]

    @extend_schema(
        operation_id="my_accounts",
        responses=inline_serializer(
            "MyAccount",
            {
                "slug": serializers.CharField(),
                "name": serializers.CharField(),
                "role": serializers.CharField(),
                "status": serializers.CharField(),
            },
            many=True,
        ),
    )
    def get(self, request):
        memberships = selectors.memberships_of_user(user=request.user)
        return Response(
            [
                {"slug": m.account.slug, "name": m.account.name, "role": m.role, "status": m.status}
                for m in memberships
            ]
        )
