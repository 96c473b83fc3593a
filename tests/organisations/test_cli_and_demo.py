"""``peerbridge organisations import-ods FILE --type ...`` at the command line, and the demo's
organisations carrying the ODS codes of its sample file."""

from __future__ import annotations

import json

from sqlmodel import select

from backend import demo
from backend.audit import actions as a
from backend.cli import app
from backend.organisations.models import Organisation
from tests.factories import audit_events
from tests.test_cli import _restore, _use_database, runner

GOOD = '"RR8","LEEDS TEACHING HOSPITALS NHS TRUST","Y63"\n'
BAD = '"R?8","BAD","Y63"\n'


def test_import_ods_at_the_command_line(engine, session, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    good = tmp_path / "etr.csv"
    good.write_text(GOOD, encoding="utf-8")
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(GOOD + BAD, encoding="utf-8")
    _use_database(monkeypatch, engine, tmp_path)
    try:
        first = runner.invoke(
            app, ["organisations", "import-ods", str(good), "--type", "acute-trust"]
        )
        again = runner.invoke(app, ["organisations", "import-ods", str(mixed)])
        wrong = runner.invoke(app, ["organisations", "import-ods", str(good), "--type", "boss"])
        missing = runner.invoke(app, ["organisations", "import-ods", str(tmp_path / "no.csv")])
    finally:
        _restore()

    assert first.exit_code == 0, first.output
    assert "1 added to the register" in first.output
    assert again.exit_code == 1 and "line 2 (R?8)" in again.output
    assert "1 unchanged" in again.output
    assert wrong.exit_code == 2 and "is not an organisation type" in wrong.output
    assert missing.exit_code == 2 and "Cannot read" in missing.output
    [leeds] = session.exec(select(Organisation)).all()
    assert (leeds.ods_code, leeds.type, leeds.status) == ("RR8", "acute-trust", "register")
    events = audit_events(session, a.ORGANISATIONS_IMPORTED)
    assert [e.actor_id for e in events] == [None, None]  # the system
    assert json.loads(events[1].details)["problems"] == 1


def test_the_demo_organisations_carry_ods_codes(session):  # type: ignore[no-untyped-def]
    demo.load(session=session, members=60)
    session.commit()
    organisations = session.exec(select(Organisation)).all()
    used = {o.name for o in demo.ORGANISATIONS}
    coded = {o.name: o.ods_code for o in organisations if o.name in used}
    assert len(coded) == len(used) and all(coded.values())
    assert all(o.status == "register" for o in organisations)
    assert coded["Northfield Teaching Hospitals NHS Foundation Trust"] == "RNH"
    assert not any(o.closed_on for o in organisations)  # the closed trust was not added
