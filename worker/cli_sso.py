"""`ale-sync sso set|show|remove`: each district's OpenID Connect provider for staff sign-in.

The client secret is never given on the command line or stored: `--client-secret-env NAME` or
`--client-secret-file PATH` say where the web processes read it. Settings are checked with
`provider_problems` (config/identity_provider.py) before they are saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from config.identity_provider import DEFAULT_SCOPES, ProviderSettings, provider_problems
from models import District, IdentityProvider
from models.db import transaction
from models.sign_in import provider_settings, remove_provider, save_provider
from worker.cli_ops import DistrictOption, JsonOption
from worker.cli_output import console, err_console, fail, print_rows

sso_app = typer.Typer(
    help="Staff sign-in through each district's identity provider (OpenID Connect).", no_args_is_help=True
)

RoleOption = Annotated[
    list[str],
    typer.Option(
        "--role",
        help="ROLE=group:NAME, ROLE=email:ADDRESS or ROLE=domain:DOMAIN (repeat); "
        "roles registrar, secretary, teacher. A person no rule matches gets no access.",
    ),
]


def role_rules(entries: list[str]) -> dict[str, list[str]]:
    """`registrar=group:ALE Registrars` entries gathered by role."""
    rules: dict[str, list[str]] = {}
    for entry in entries:
        role, separator, matcher = entry.partition("=")
        if not separator:
            raise fail(
                f"--role {entry!r}: expected ROLE=group:NAME, ROLE=email:ADDRESS or ROLE=domain:DOMAIN", 2
            )
        rules.setdefault(role.strip(), []).append(matcher.strip())
    return rules


def secret_reference(env: str | None, file: Path | None) -> str:
    if (env is None) == (file is None):
        raise fail("give exactly one of --client-secret-env and --client-secret-file", 2)
    return f"env:{env}" if env is not None else f"file:{file}"


@sso_app.command("set")
def sso_set(
    *,
    district: Annotated[
        str, typer.Option("--district", "-d", help="The district whose staff sign in there.")
    ],
    issuer: Annotated[str, typer.Option("--issuer", help="The provider's issuer URL (https).")],
    client_id: Annotated[str, typer.Option("--client-id", help="This service's client id at the provider.")],
    role: RoleOption,
    client_secret_env: Annotated[
        str | None,
        typer.Option("--client-secret-env", help="Environment variable holding the client secret."),
    ] = None,
    client_secret_file: Annotated[
        Path | None, typer.Option("--client-secret-file", help="File holding the client secret.")
    ] = None,
    name_claim: Annotated[
        str, typer.Option("--name-claim", help="The claim that names the staff member.")
    ] = "name",
    groups_claim: Annotated[
        str, typer.Option("--groups-claim", help="The claim listing their groups.")
    ] = "groups",
    scopes: Annotated[str, typer.Option("--scopes", help="Scopes asked for.")] = DEFAULT_SCOPES,
) -> None:
    """Set (or replace) the district's provider; its token login page closes once this is set."""
    provider = ProviderSettings(
        district=district,
        issuer=issuer,
        client_id=client_id,
        client_secret_from=secret_reference(client_secret_env, client_secret_file),
        scopes=scopes,
        name_claim=name_claim,
        groups_claim=groups_claim,
        role_rules=role_rules(role),
    )
    problems = provider_problems(provider)
    for problem in problems:
        err_console.print(f"ale-sync: {problem}", markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    with transaction() as session:
        if session.get(District, district) is None:
            raise fail(f"no district {district}")
        save_provider(session, provider)
    console.print(f"district {district} staff sign in at {issuer}", markup=False, highlight=False)


@sso_app.command("show")
def sso_show(district: DistrictOption = None, as_json: JsonOption = False) -> None:
    """Each district's provider, where its secret is read from (never the secret), and any problem."""
    with transaction() as session:
        query = select(IdentityProvider.district_id).order_by(IdentityProvider.district_id)
        if district:
            query = query.where(IdentityProvider.district_id == district)
        providers = [provider_settings(session, code) for code in session.scalars(query)]
    rows = [_row(p) for p in providers if p is not None]

    def cells(row: dict[str, Any]) -> list[str]:
        roles = "; ".join(f"{r}: {', '.join(m)}" for r, m in row["role_rules"].items())
        problems = "; ".join(row["problems"]) or "none"
        return [row["district"], row["issuer"], row["client_id"], row["client_secret_from"], roles, problems]

    columns = ("district", "issuer", "client id", "secret from", "roles", "problems")
    print_rows(rows, as_json=as_json, title="identity providers", columns=columns, cells=cells, wrap=columns)


def _row(provider: ProviderSettings) -> dict[str, Any]:
    return {**provider.model_dump(), "problems": provider_problems(provider)}


@sso_app.command("remove")
def sso_remove(
    district: Annotated[str, typer.Option("--district", "-d", help="The district.")],
) -> None:
    """Remove the district's provider: its staff sign in with tokens again (`ale-sync staff add`)."""
    with transaction() as session:
        if not remove_provider(session, district):
            raise fail(f"district {district} has no identity provider")
    console.print(f"district {district} staff sign in with staff tokens")
