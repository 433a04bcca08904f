"""Editing a state file the way an older feedsite (or a hostile hand) left it, for tests."""

from __future__ import annotations

import sqlite3

from feedsite._store._bodies import pack, unpack


def set_clean_body(db: sqlite3.Connection, guid: str, clean: str) -> None:
    """Replace the stored cleaned body of the item with ``guid`` (its other bodies stay)."""
    ((body_id, blob),) = db.execute(
        "SELECT b.id, b.data FROM items i JOIN bodies b ON b.id = i.body_id WHERE i.guid = ?",
        (guid,),
    ).fetchall()
    content, summary, raw, _old = unpack(blob)
    packed = pack((content, summary, raw, clean))
    db.execute("UPDATE bodies SET data = ? WHERE id = ?", (packed, body_id))
