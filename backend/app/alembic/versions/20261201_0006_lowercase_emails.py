"""emails stored lower-case, so the unique index makes them unique regardless of case

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:30:00

The API compared emails case-insensitively but stored them as typed, so two sign-ups racing with
`A@x.com` and `a@x.com` could both succeed. From now on the API stores them lower-case; this
lower-cases the existing ones and refuses to run (changing nothing) if two accounts differ only
by case — merge or rename them first.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    clashes = connection.execute(
        sa.text('SELECT count(*) FROM (SELECT lower(email) FROM "user" GROUP BY lower(email) '
                "HAVING count(*) > 1) AS clashes")
    ).scalar_one()
    if clashes:
        raise RuntimeError(
            f"{clashes} email address(es) belong to several accounts that differ only by case; "
            'merge or rename them (SELECT email FROM "user" ORDER BY lower(email)), then migrate.'
        )
    op.execute('UPDATE "user" SET email = lower(email) WHERE email <> lower(email)')


def downgrade() -> None:
    pass  # the original case is gone; lower-case emails are valid for the older code too
