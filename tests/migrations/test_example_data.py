"""The example's data story, pinned by revision id: rows written at
1a2b3c4d5e6f survive the upgrade to 7e8f9a0b1c2d. Copy it to test a data
migration of your own (`make remove-example` deletes this file with the example)."""

from alembic import command
from sqlalchemy import text

BEFORE, AFTER = "1a2b3c4d5e6f", "7e8f9a0b1c2d"


def test_rows_written_at_1a2b3c4d5e6f_survive_the_upgrade_to_7e8f9a0b1c2d(migrate, connection):
    command.upgrade(migrate, BEFORE)
    connection.execute(text("INSERT INTO address (id, permanent_addr) VALUES (1, '1 Elm St')"))
    connection.execute(
        text("INSERT INTO family (id, permanent_addr, temporary_addr) VALUES (7, 'home', 'away')")
    )
    connection.commit()

    command.upgrade(migrate, AFTER)

    assert connection.execute(text("SELECT * FROM address")).all() == [(1, "1 Elm St", None)]
    assert connection.execute(text("SELECT * FROM family")).all() == [(7, "home", "away")]
