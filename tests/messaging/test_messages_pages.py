"""Message pages: a bad message gets a clear error, text is escaped, an organiser cannot open
a conversation, and the moderation queue shows a reported message with only its neighbours."""

from __future__ import annotations

from backend.messaging import service as messaging
from tests.factories import make_mentee, make_mentor, make_mentorship, make_organiser
from tests.web.conftest import error_summary, log_in, post_form


def test_pages_refuse_bad_messages_escape_text_and_keep_organisers_out(client, session):
    mentor = make_mentor(session, name="Ada Mentor")
    mentee = make_mentee(session, name="Ben Mentee")
    organiser = make_organiser(session)
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    sent = [
        messaging.send(
            session=session,
            author=mentee if i % 2 == 0 else mentor,
            mentorship_id=mentorship.id,
            body=body,
        )
        for i, body in enumerate(["Alpha words", "Bravo words", "Charlie words", "Delta words"])
    ]
    messaging.report(session=session, reporter=mentor, message_id=sent[2].id, reason="Rude")
    thread = f"/messages/{sent[0].thread_id}"
    session.commit()

    log_in(client, mentee.email)
    empty = post_form(client, thread, {"body": "   "})
    assert empty.status_code == 400
    assert error_summary(empty.text) == ["Write a message before sending it."]
    assert post_form(client, thread, {"body": "<script>x()</script>"}).status_code == 303
    page = client.get(thread)
    assert "&lt;script&gt;x()&lt;/script&gt;" in page.text and "<script>x()" not in page.text
    assert "Organisers can read a message only if one of you reports it" in page.text
    client.post("/logout", data={"csrf_token": ""})

    client.cookies.clear()
    log_in(client, organiser.email)
    assert client.get(thread).status_code == 404
    queue = client.get("/community/moderation").text
    assert "Charlie words" in queue and "Bravo words" in queue and "Delta words" in queue
    assert "Alpha words" not in queue
