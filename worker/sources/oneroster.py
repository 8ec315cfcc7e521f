"""OneRoster 1.1 / 1.2 users, read through the manifest: which rows are students, and each field's SQL.

1.1 names a user's role and orgs on users.csv; 1.2 moves both to roles.csv (a user may have
several roles; the primary one's org wins) and adds primaryOrgSourcedId. Birth dates come
from demographics.csv when the delivery has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from config.settings import SourceConfig
from worker.sources.columns import Header, identifier_expression

USERS_REQUIRED = ("sourcedId", "givenName", "familyName")


@dataclass
class UserMapping:
    """SQL expressions over the staged users (alias u) and the joins that feed them."""

    fields: dict[str, str]
    joins: str = ""
    # the same joins, safe when a joined file repeats a user (one row per user); used only when
    # `joins` turn out to multiply rows, since the grouping costs as much as the join itself
    joins_one_per_user: str | None = None
    params: dict[str, str | list[str]] = field(default_factory=dict)


def users_mapping(
    source: SourceConfig,
    version: str,
    users: Header,
    demographics: Header | None,
    roles: Header | None,
    *,
    other_districts_orgs: list[str] | None = None,
) -> UserMapping:
    """How to read this delivery's users; students of OTHER_DISTRICTS_ORGS are not this district's."""
    role_required = ("role",) if version == "1.1" or roles is None else ()
    users.require("users.csv", *USERS_REQUIRED, *role_required)
    ssid, ssid_params = identifier_expression(users, "u", source.ssid_from, "ssid_re")
    other_id, other_params = identifier_expression(users, "u", source.other_id_from, "other_id_re")
    fields = {
        "sid": users.column("u", "sourcedId"),
        "status": users.column("u", "status"),
        "given": users.column("u", "givenName"),
        "family": users.column("u", "familyName"),
        "middle": users.column("u", "middleName"),
        "ssid": ssid,
        "other_id": other_id,
        "grade": f"split_part({users.column('u', 'grades')}, ',', 1)",
        "birth": "d.birth" if demographics else "NULL::text",
        # the delivery says something about this user's birth date (an empty value clears it)
        "birth_sent": "d.user_sid IS NOT NULL" if demographics else "false",
        # a record an API read could not map (worker/sources/oneroster_api/records.py): "reason|detail"
        "problem": users.column("u", "ale.problem"),
    }
    role = users.column("u", "role")
    orgs = f"split_part({users.column('u', 'orgSourcedIds')}, ',', 1)"
    joins, one_per_user = "", None
    if demographics:
        on = f"d ON d.user_sid = btrim({fields['sid']})"
        joins += f" LEFT JOIN ({demographics_sql(demographics)}) {on}"
        one_per_user = f" LEFT JOIN ({demographics_sql(demographics, one_per_user=True)}) {on}"
    if roles is not None and version == "1.2":
        roles_join = f" LEFT JOIN stage_student_roles r ON r.user_sid = btrim({fields['sid']})"
        joins += roles_join
        one_per_user = one_per_user and one_per_user + roles_join
        primary = users.column("u", "primaryOrgSourcedId")
        fields["is_student"] = f"(lower(btrim({role})) = 'student' OR r.user_sid IS NOT NULL)"
        fields["school"] = f"coalesce(nullif(btrim({primary}), ''), r.org_sid, nullif(btrim({orgs}), ''))"
    else:
        fields["is_student"] = f"lower(btrim({role})) = 'student'"
        fields["school"] = orgs
    params: dict[str, str | list[str]] = {**ssid_params, **other_params}
    if other_districts_orgs:
        ours = f"coalesce({fields['school']}, '') <> ALL(CAST(:other_orgs AS text[]))"
        fields["is_student"] = f"({fields['is_student']}) AND {ours}"
        params["other_orgs"] = other_districts_orgs
    return UserMapping(fields=fields, joins=joins, joins_one_per_user=one_per_user, params=params)


def student_roles_sql(roles: Header) -> str:
    """1.2: one row per user who holds a student role, with the org of their primary role first
    (the SELECT that fills working table stage_student_roles)."""
    roles.require("roles.csv", "userSourcedId", "role")
    user = roles.column("x", "userSourcedId")
    return (
        f"SELECT DISTINCT ON (btrim({user})) btrim({user}) AS user_sid, "
        f"nullif(btrim({roles.column('x', 'orgSourcedId')}), '') AS org_sid "
        f"FROM stage_roles x WHERE lower(btrim({roles.column('x', 'role')})) = 'student' "
        f"AND lower(btrim(coalesce({roles.column('x', 'status')}, ''))) <> 'tobedeleted' "
        f"ORDER BY btrim({user}), lower(btrim(coalesce({roles.column('x', 'roleType')}, ''))) <> 'primary'"
    )


def demographics_sql(demographics: Header, one_per_user: bool = False) -> str:
    """Each user's birth date (user_sid, birth); ONE_PER_USER keeps the latest of a user's rows, so a
    join cannot multiply users. A subquery of the users statement (a table of its own would be
    written and read back once)."""
    no_key = ["sourcedId"] if demographics.position("sourcedId", "userSourcedId") is None else []
    demographics.require("demographics.csv", "birthDate", also_missing=no_key)
    key = f"btrim({demographics.column('x', 'sourcedId', 'userSourcedId')})"
    birth = demographics.column("x", "birthDate")
    if one_per_user:
        return f"SELECT {key} AS user_sid, max({birth}) AS birth FROM stage_demographics x GROUP BY {key}"
    return f"SELECT {key} AS user_sid, {birth} AS birth FROM stage_demographics x"
