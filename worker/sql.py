"""How the ingest assembles SQL: every statement is a constant, and `compose` fills its {placeholders}.

A placeholder stands for SQL the code chooses: a fragment defined beside the statement, a
source's column expression, a quoted identifier, a list of working-table columns. It never
stands for a value: values always travel as bind parameters (`:district`). Only a lowercase
name in braces is a placeholder, so a regular expression's `{4}` or a literal `'{'` in the
SQL is left as written.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def compose(template: str, **parts: str) -> str:
    """TEMPLATE with every {name} replaced by PARTS[name]; a placeholder left without a part is a
    bug, raised as KeyError rather than sent to the database."""
    return PLACEHOLDER.sub(lambda found: parts[found.group(1)], template)
