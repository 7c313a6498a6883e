"""Property-based tests (hypothesis): arbitrary interleavings of the moves of the quiz attempt, the
role-play grade and the certificate record never break their invariants.

Each example runs inside a savepoint of the test's transaction (rolled back at teardown); each move
runs in a savepoint of its own, rolled back when the move is refused, as a request would be.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from lms.certification import services as certs
from lms.certification.models import CertificationEvent, CertificationRecord
from lms.core.clock import now_utc
from lms.core.errors import DomainError
from lms.quizzes import services as quizzes
from lms.quizzes.models import QuizSummary
from lms.quizzes.simulate import answer_attempt
from lms.roleplays import services as roleplays
from lms.roleplays.models import GradeEvent, RoleplayGrade
from lms.tracks import services as tracks

SETTINGS = settings(max_examples=50, stateful_step_count=12, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _attempt_move(session, call) -> bool:
    """Run one move as a request would: kept if it succeeds, rolled back if a rule refuses it."""
    try:
        with session.begin_nested():
            call()
    except DomainError:
        session.expire_all()
        return False
    return True


# Quiz attempts ------------------------------------------------------------------------------------

def test_quiz_attempts_keep_their_invariants(session, content, agent, trainer, manager):
    tracks.enroll(session, actor=manager, agent=agent, track=tracks.find_track(session, "corto"),
                  start_date=date.today() - timedelta(days=1), now=now_utc())
    session.commit()
    quiz = quizzes.get_quiz(session, "evaluacion-a")  # 2 attempts, 10 minutes, pass mark 80
    allowed = quiz.settings["attempts_allowed"]
    seen: set[str] = set()  # what the examples reached (the machine must explore, not just refuse)

    class Attempts(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = session.begin_nested()
            self.now = now_utc()
            self.frozen: dict[int, list] = {}  # answers of each attempt when it was handed in

        def teardown(self):
            self.savepoint.rollback()
            session.expire_all()

        def attempts(self):
            return quizzes.attempts_of(session, agent.id, quiz)

        def pick(self, index):
            attempts = self.attempts()
            return quizzes.get_attempt(session, attempts[index % len(attempts)].id) if attempts else None

        @rule()
        def start(self):
            _attempt_move(session, lambda: quizzes.start_attempt(session, agent, quiz, now=self.now))

        @rule(index=st.integers(0, 3), accuracy=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 99), garbage=st.booleans())
        def save(self, index, accuracy, seed, garbage):
            attempt = self.pick(index)
            if attempt is None:
                return
            values = {"q0": ["999999"], "q1": ["-1"]} if garbage else answer_attempt(attempt, accuracy, random.Random(seed))
            before = attempt.state
            saved = _attempt_move(session, lambda: quizzes.save_answers(session, attempt, agent, values, now=self.now))
            assert not (saved and before != "in_progress"), "answers saved into a closed attempt"

        @rule(index=st.integers(0, 3), accuracy=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 99))
        def submit(self, index, accuracy, seed):
            attempt = self.pick(index)
            if attempt is None:
                return
            values = answer_attempt(attempt, accuracy, random.Random(seed))
            before = attempt.state
            if _attempt_move(session, lambda: quizzes.submit_attempt(session, attempt, agent, values, now=self.now)):
                assert before == "in_progress", "a closed attempt was submitted again"
                self.frozen[attempt.id] = [slot.answer for slot in attempt.slots]

        @rule(minutes=st.integers(0, 20))
        def tick(self, minutes):
            self.now += timedelta(minutes=minutes)

        @rule()
        def expire(self):
            for attempt in self.attempts():
                _attempt_move(session, lambda a=attempt: quizzes.expire_if_overdue(session, a, now=self.now))

        @rule(index=st.integers(0, 3), slot=st.integers(0, 1), score=st.floats(-1, 3, allow_nan=False), stale=st.booleans(),
              reason=st.sampled_from(["", "Revisado"]))
        def regrade(self, index, slot, score, stale, reason):
            attempt = self.pick(index)
            if attempt is None:
                return
            target = attempt.slots[slot % len(attempt.slots)]
            revision = attempt.revision - 1 if stale else attempt.revision
            ok = _attempt_move(session, lambda: quizzes.set_slot_score(session, attempt, target, score=score, feedback="", reason=reason,
                                                                        actor=trainer, expected_revision=revision, now=self.now))
            if ok:
                assert not stale and 0 <= score <= target.points and reason

        @invariant()
        def attempts_within_the_limit_and_one_open_at_most(self):
            attempts = self.attempts()
            seen.update(a.state for a in attempts)
            seen.update("closed-save" for _ in self.frozen)
            assert len(attempts) <= allowed
            assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
            assert sum(1 for a in attempts if a.state == "in_progress") <= 1

        @invariant()
        def handed_in_answers_never_change(self):
            for attempt_id, answers in self.frozen.items():
                attempt = quizzes.get_attempt(session, attempt_id)
                assert attempt.state in ("submitted", "graded")
                assert [slot.answer for slot in attempt.slots] == answers

        @invariant()
        def scores_within_bounds(self):
            for attempt in self.attempts():
                attempt = quizzes.get_attempt(session, attempt.id)
                for slot in attempt.slots:
                    assert slot.score is None or 0 <= slot.score <= slot.points
                if attempt.score is not None:
                    assert 0 <= attempt.score <= attempt.max_score
                    assert 0 <= attempt.percent <= 100
                if attempt.state == "graded":
                    assert attempt.passed == (attempt.percent >= attempt.pass_mark)
                elif attempt.state != "submitted":
                    assert attempt.score is None

        @invariant()
        def one_grade_of_record(self):
            rows = session.scalars(select(QuizSummary).where(QuizSummary.user_id == agent.id, QuizSummary.quiz_id == quiz.id)).all()
            attempts = self.attempts()
            assert len(rows) == (1 if attempts else 0)
            if rows:
                assert rows[0].attempts == len(attempts)
                assert rows[0].grade == quizzes.quiz_grade(attempts, quiz.settings.get("grade_method", "highest"))

    run_state_machine_as_test(Attempts, settings=SETTINGS)
    assert {"in_progress", "graded"} <= seen, seen


# Role-play grades ----------------------------------------------------------------------------------

def test_roleplay_grades_keep_their_invariants(session, content, agent, trainer):
    scenario = roleplays.get_scenario(session, "chat-retraso")

    class Grading(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = session.begin_nested()
            self.now = now_utc()
            self.submission = roleplays.start_practice(session, agent, scenario, now=self.now)
            for text in ("Hola, Ana.", "Gracias, Ana."):
                roleplays.reply(session, self.submission, agent, thread="ana", text=text, now=self.now)
            roleplays.submit(session, self.submission, agent, escalation=None, now=self.now)
            self.saves = 0
            self.released_once = False

        def teardown(self):
            self.savepoint.rollback()
            session.expire_all()

        def grade(self):
            return roleplays.grade_for(session, self.submission)

        @rule(action=st.sampled_from(["draft", "release", "return", "publish"]), level=st.sampled_from([None, "", 0, 1, 2, 3, 4, 5, "x"]),
              offset=st.sampled_from([0, 0, 0, -1, 1]), reason=st.sampled_from(["", "Corrección tras revisar la grabación"]),
              comment=st.text(st.characters(exclude_characters="\x00"), max_size=30))  # NUL never gets past HTTP (test_hostile_bytes)
        def save(self, action, level, offset, reason, comment):
            grade = self.grade()
            state_before = grade.state if grade else None
            snapshot = (dict(grade.levels), grade.score) if grade else None
            revision = (grade.revision if grade else 0) + offset
            self.now += timedelta(minutes=1)
            ok = _attempt_move(session, lambda: roleplays.save_grade(
                session, self.submission, actor=trainer, levels={"tiempo": level}, comments={"tiempo": comment}, overall=comment,
                inline=[], action=action, expected_revision=revision, reason=reason, now=self.now))
            if not ok:
                after = self.grade()
                assert (after.state if after else None) == state_before
                assert ((dict(after.levels), after.score) if after else None) == snapshot
                return
            self.saves += 1
            assert action in ("draft", "release", "return") and offset == 0
            if action != "draft":
                assert level not in (None, "", "x", 5), "released or returned with a criterion ungraded"
            if state_before == "released":
                assert reason, "a released grade changed without a reason"
            if self.grade().state == "released":
                self.released_once = True

        @invariant()
        def one_grade_of_record_with_full_history(self):
            grades = session.scalars(select(RoleplayGrade).where(RoleplayGrade.submission_id == self.submission.id,
                                                                 RoleplayGrade.calibration_id.is_(None))).all()
            assert len(grades) == (1 if self.saves else 0)
            if not grades:
                return
            grade = grades[0]
            events = session.scalars(select(GradeEvent).where(GradeEvent.grade_id == grade.id).order_by(GradeEvent.id)).all()
            assert len(events) == self.saves == grade.revision
            for event in events:
                if event.before and event.before["state"] == "released":
                    assert event.reason.strip(), "a change to a released grade without a reason in its history"
            assert event.after["state"] == grade.state and event.after["score"] == grade.score

        @invariant()
        def the_agent_sees_only_released_scores(self):
            grade = self.grade()
            submission = self.submission
            session.refresh(submission)
            if grade is not None and grade.state == "released":
                assert submission.score == grade.score and grade.released_at is not None
            else:
                assert submission.score is None and submission.passed is None
            if self.released_once:  # once released, never back to a draft the agent cannot see
                assert grade.state in ("released", "returned")
            visible = roleplays.visible_grade(session, submission)
            assert visible is None or visible.state in ("released", "returned")
            if grade is not None and grade.score is not None:
                assert 0 <= grade.score <= 100

    run_state_machine_as_test(Grading, settings=SETTINGS)


# Certificate records -----------------------------------------------------------------------------------

def test_certificate_records_keep_their_invariants(session, content, agent, admin):
    definition = certs.get_definition(session, "proceso")

    class Records(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = session.begin_nested()
            self.now = now_utc()
            self.changes = 0  # successful moves: each must have left exactly one audit row

        def teardown(self):
            self.savepoint.rollback()
            session.expire_all()

        def records(self):
            return session.scalars(select(CertificationRecord).where(CertificationRecord.user_id == agent.id,
                                                                     CertificationRecord.definition_id == definition.id)
                                   .order_by(CertificationRecord.id)).all()

        def events(self):
            ids = [r.id for r in self.records()]
            return session.scalar(select(func.count()).select_from(CertificationEvent).where(CertificationEvent.record_id.in_(ids))) if ids else 0

        def _counted(self, call) -> bool:
            before = self.events()
            if _attempt_move(session, call):
                assert self.events() > before, "a change without an audit row"
                return True
            assert self.events() == before
            return False

        @rule(reason=st.sampled_from(["", "Emisión por decisión del comité"]))
        def issue(self, reason):
            live = [r for r in self.records() if r.status == "active" and r.expires_at > self.now]
            if self._counted(lambda: certs.issue_manually(session, definition, agent, actor=admin, reason=reason, now=self.now)):
                assert reason and not live, "issued over a live certificate or without a reason"

        @rule(index=st.integers(0, 5), reason=st.sampled_from(["", "Fraude"]))
        def revoke(self, index, reason):
            records = self.records()
            if records:
                record = records[index % len(records)]
                status = record.status
                if self._counted(lambda: certs.revoke(session, record, actor=admin, reason=reason, now=self.now)):
                    assert status == "active" and reason, f"revoked a {status} record (reason {reason!r})"
                    assert record.status == "revoked"
                else:
                    assert record.status == status

        @rule(index=st.integers(0, 5), reason=st.sampled_from(["", "Error en la revocación"]))
        def reinstate(self, index, reason):
            records = self.records()
            if records:
                record = records[index % len(records)]
                status = record.status
                if self._counted(lambda: certs.reinstate(session, record, actor=admin, reason=reason, now=self.now)):
                    assert status == "revoked" and reason, f"reinstated a {status} record (reason {reason!r})"
                    assert record.status == "active"
                else:
                    assert record.status == status

        @rule(days=st.integers(0, 400))
        def tick(self, days):
            self.now += timedelta(days=days)

        @rule()
        def expire(self):
            self._counted_or_nothing(lambda: certs.expire_due(session, now=self.now))

        @rule()
        def renew(self):
            """Open due recertification paths, and let the rules issue what the (absent) evidence allows: nothing new."""
            before = len(self.records())
            _attempt_move(session, lambda: certs.open_due_paths(session, now=self.now))
            _attempt_move(session, lambda: certs.evaluate_and_issue(session, agent, now=self.now))
            assert len(self.records()) == before, "a certificate issued without evidence"

        def _counted_or_nothing(self, call):
            statuses = [r.status for r in self.records()]
            before = self.events()
            _attempt_move(session, call)
            moved = sum(1 for old, new in zip(statuses, [r.status for r in self.records()]) if old != new)
            assert self.events() == before + moved

        @invariant()
        def at_most_one_active_record(self):
            assert sum(1 for r in self.records() if r.status == "active") <= 1

        @invariant()
        def every_record_has_its_history(self):
            for record in self.records():
                events = certs.events_of(session, record)
                assert events and events[0].kind == "issued"
                moves = [e for e in events if e.kind in ("revoked", "reinstated", "expired", "superseded")]
                assert record.status == (moves[-1].data["after"] if moves else "active")
                for event in events[1:]:
                    if event.kind in ("revoked", "reinstated") and event.actor_id is not None:
                        assert event.reason.strip()

    run_state_machine_as_test(Records, settings=SETTINGS)
