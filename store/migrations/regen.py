"""Rewrite the initial migration from the models (only while no release has shipped).

.venv/bin/python -m store.migrations.regen
"""

import tempfile
from pathlib import Path

from alembic import command

from store.db import MIGRATIONS, alembic_config, dispose_all


def main() -> None:
    versions = MIGRATIONS / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        config = alembic_config(f"sqlite:///{Path(tmp) / 'regen.db'}")
        command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
    dispose_all()
    for new in versions.glob("0001_*.py"):
        print(f"wrote {new.relative_to(MIGRATIONS.parent.parent)}")


if __name__ == "__main__":
    main()
