"""Idempotency keys on submissions: a repeat gets the first answer, never a second write or a conflict."""
from __future__ import annotations


from sqlalchemy import func, select

from lms.core.db import Database, get_db
from lms.core.idempotency import IdempotencyKey
from lms.quizzes.models import AttemptEvent, QuizAttempt
from tests.concurrency import run_at_once
from tests.core.fault_setup import form_of, logged_in_client, quiz_setup


def _submitted_events(url: str, attempt_id: int) -> tuple[str, int, int]:
    db = Database(url)
    try:
        with db.sessionmaker() as session:
            state = session.get(QuizAttempt, attempt_id).state
            submitted = session.scalar(select(func.count()).select_from(AttemptEvent)
                                       .where(AttemptEvent.attempt_id == attempt_id, AttemptEvent.kind == "submitted"))
            keys = session.scalar(select(func.count()).select_from(IdempotencyKey))
        return state, submitted, keys
    finally:
        db.engine.dispose()


def _poster(setup, cookie: str, key: str):
    """A POST of the first agent's submission with ``key``, each in a fresh client signed in with ``cookie``."""
    attempt, values = setup.attempt_ids[0], setup.values[0]

    def post():
        client = setup.app.test_client()
        client.set_cookie("session", cookie)
        return client.post(f"/attempts/{attempt}/submit", data=form_of(values, key))

    return post


def _let_another_request_in(monkeypatch, owner, name: str, post) -> tuple[list, list]:
    """Wrap ``owner.name`` so that at its first call, another request (``post``) runs to its end before the first one
    goes on. Returns the other request's responses and what each call returned."""
    import threading

    real, others, calls = getattr(owner, name), [], []

    def wrapped(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result)
        if len(calls) == 1:
            thread = threading.Thread(target=lambda: others.append(post()))
            thread.start()
            thread.join(60)
        return result

    monkeypatch.setattr(owner, name, wrapped)
    return others, calls


def test_a_repeated_submission_gets_the_first_answer_and_writes_once(databases, tmp_path):
    setup = quiz_setup(databases, tmp_path, "idem", agents=2)
    agent, other = (logged_in_client(setup.app, email) for email in setup.agent_emails)
    attempt, values = setup.attempt_ids[0], setup.values[0]

    first = agent.post(f"/attempts/{attempt}/submit", data=form_of(values, "clave-repetida-01"))
    assert first.status_code == 302 and first.headers["Location"].endswith(f"/attempts/{attempt}/review?submitted=1")
    again = agent.post(f"/attempts/{attempt}/submit", data=form_of(values, "clave-repetida-01"))
    assert (again.status_code, again.headers["Location"]) == (first.status_code, first.headers["Location"])
    assert again.headers["Idempotent-Replayed"] == "true"
    page = agent.get(again.headers["Location"]).get_data(as_text=True)
    assert "Intento enviado." in page and "ya se envió" not in page  # the same message as the first time
    header = agent.post(f"/attempts/{attempt}/submit", data=values, headers={"Idempotency-Key": "clave-repetida-01"})
    assert header.status_code == 302 and header.headers["Idempotent-Replayed"] == "true"
    assert _submitted_events(setup.url, attempt) == ("graded", 1, 1)

    # without the key, a second submission is the old conflict (nothing changes either)
    assert agent.post(f"/attempts/{attempt}/submit", data=values).status_code == 303
    # the same key elsewhere is refused, not replayed
    assert agent.post(f"/attempts/{setup.attempt_ids[1]}/submit", data=form_of(values, "clave-repetida-01")).status_code in (404, 409)
    # another user cannot replay someone's key: it is a new key for them, and the attempt is not theirs
    stolen = other.post(f"/attempts/{attempt}/submit", data=form_of(values, "clave-repetida-01"))
    assert stolen.status_code == 404 and "Idempotent-Replayed" not in stolen.headers
    own = other.post(f"/attempts/{setup.attempt_ids[1]}/submit", data=form_of(setup.values[1], "clave-repetida-01"))
    assert own.status_code == 302 and "Idempotent-Replayed" not in own.headers
    assert _submitted_events(setup.url, setup.attempt_ids[1])[:2] == ("graded", 1)
    assert agent.post(f"/attempts/{attempt}/submit", data=form_of(values, "mal")).status_code == 400  # malformed key
    get_db(setup.app).engine.dispose()


def test_the_same_key_on_another_url_is_refused(databases, tmp_path):
    setup = quiz_setup(databases, tmp_path, "idemurl", agents=1)
    agent = logged_in_client(setup.app, setup.agent_emails[0])
    attempt, values = setup.attempt_ids[0], setup.values[0]
    assert agent.post(f"/attempts/{attempt}/submit", data=form_of(values, "clave-otra-url-1")).status_code == 302
    reused = agent.post("/quizzes/evaluacion-a/start", data={"idempotency_key": "clave-otra-url-1"})
    assert reused.status_code in (302, 303)  # start is not keyed: the key is ignored there
    get_db(setup.app).engine.dispose()


def test_ten_identical_submissions_at_once_one_grade_same_answer_for_all(databases, tmp_path):
    setup = quiz_setup(databases, tmp_path, "idemconc", agents=1)
    cookie = logged_in_client(setup.app, setup.agent_emails[0]).get_cookie("session").value
    attempt, values = setup.attempt_ids[0], setup.values[0]
    def submit(_i):
        client = setup.app.test_client()
        client.set_cookie("session", cookie)
        response = client.post(f"/attempts/{attempt}/submit", data=form_of(values, "clave-simultanea-1"))
        return (response.status_code, response.headers.get("Location"))

    outcomes = run_at_once(submit, 10, timeout=60)
    assert set(outcomes) == {(302, f"/attempts/{attempt}/review?submitted=1")}, outcomes
    assert _submitted_events(setup.url, attempt) == ("graded", 1, 1)
    get_db(setup.app).engine.dispose()


def test_a_key_claimed_while_the_submission_was_reading_gives_the_stored_answer(databases, tmp_path, monkeypatch):
    """Submit is reads_first: the key is looked up, the answers are checked, and only then claimed. When a request
    with the same key commits in between, this one writes nothing and answers with the stored outcome."""
    from lms.quizzes import services

    setup = quiz_setup(databases, tmp_path, "idemmid", agents=1)
    cookie = logged_in_client(setup.app, setup.agent_emails[0]).get_cookie("session").value
    attempt = setup.attempt_ids[0]
    post = _poster(setup, cookie, "clave-entre-medias")
    # the first request, between its reads and its writes: the repeat runs to its end
    others, _calls = _let_another_request_in(monkeypatch, services, "_parse_answers", post)
    first = post()
    (other,) = others
    _one_ran_the_other_replayed(setup, attempt, ran=other, replayed=first)


def test_a_repeat_that_reads_after_the_first_committed_gets_the_first_answer(databases, tmp_path, monkeypatch):
    """The other interleaving: the repeat looks its key up before the first request commits, and reads the attempt
    after. It finds the attempt submitted and never begins writing; it still answers with the first request's stored
    outcome (a replay), not "already submitted". Found by the ten-at-once test above, which hit it once in a CI run."""
    from lms.core import idempotency

    setup = quiz_setup(databases, tmp_path, "idemlate", agents=1)
    cookie = logged_in_client(setup.app, setup.agent_emails[0]).get_cookie("session").value
    attempt = setup.attempt_ids[0]
    post = _poster(setup, cookie, "clave-tardia-01")
    # the repeat's lookup finds nothing; the first request runs to its end before the repeat reads on
    others, calls = _let_another_request_in(monkeypatch, idempotency, "lookup", post)
    repeat = post()
    (first,) = others
    assert calls[0] is None
    _one_ran_the_other_replayed(setup, attempt, ran=first, replayed=repeat)


def _one_ran_the_other_replayed(setup, attempt: int, *, ran, replayed) -> None:
    """Of two submissions with the same key, ``ran`` graded the attempt and ``replayed`` got its stored answer."""
    assert (ran.status_code, "Idempotent-Replayed" in ran.headers) == (302, False)  # it ran the submission
    assert replayed.status_code == 302 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.headers["Location"] == ran.headers["Location"] == f"/attempts/{attempt}/review?submitted=1"
    assert _submitted_events(setup.url, attempt) == ("graded", 1, 1)
    get_db(setup.app).engine.dispose()
