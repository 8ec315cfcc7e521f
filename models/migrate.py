"""`ale-sync db upgrade|downgrade`: Alembic driven from code, no alembic.ini to find."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def is_student_partition(name: str | None) -> bool:
    """A district's partition of students (or the default one): made at run time, not a model."""
    return name is not None and (name == "students_default" or name.startswith("students_d_"))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For comparing the database with the models: everything but students' partitions."""
    return not (type_ == "table" and is_student_partition(name))


def include_object(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """...nor the copies Postgres keeps of a foreign key for each partition it refers to."""
    if type_ == "foreign_key_constraint":
        return not is_student_partition(item.referred_table.name)
    return True


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    return config


def _run(engine: Engine, action: str, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, "downgrade", revision)


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
