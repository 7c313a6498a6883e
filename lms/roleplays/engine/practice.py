"""What the server does with a reply in a practice whose customers have a model: the customer's side is replayed from
the stored turns (seeded by the practice), the waits are timed by the server, and each thread's ending is kept in
``RoleplaySubmission.conversation``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lms.roleplays.engine.conversation import LEAVE_AFTER_EXTRA, Customer, pick


#: endings after which the customer is still there to read the agent's closing words
CLOSABLE = ("resolved", "escalated", "escalated_wrongly")


def close(submission, thread: str) -> None:
    state = thread_state(submission, thread)
    state["closed"] = True
    _set_state(submission, thread, state)


def has_model(customer: dict) -> bool:
    return "model" in customer


def thread_state(submission, thread: str) -> dict:
    return dict((submission.conversation or {}).get(thread) or {})


def _set_state(submission, thread: str, state: dict) -> None:
    conversation = dict(submission.conversation or {})
    conversation[thread] = state
    submission.conversation = conversation  # a new dict: the JSON column sees the change


def replayed(submission, customer: dict) -> Customer:
    """The customer after the agent's stored replies in this thread."""
    scenario = submission.scenario.data
    sim = Customer(scenario, customer, submission.id)
    for turn in submission.turns:
        if turn.thread == customer["id"] and turn.speaker == "agent" and not sim.ending:  # closing words after the end: not replayed
            sim.react(turn.text, turn.seconds)
    return sim


def respond(submission, customer: dict, text: str, seconds: float, waited_since: datetime, now: datetime) -> list[tuple[str, str, datetime, float | None]]:
    """The turns a reply adds, in order: the nudges sent while the customer waited, the reply, the customer's answer
    (or last words). The thread's ending, mood and needs met are recorded on the submission."""
    sim = replayed(submission, customer)
    step = sim.react(text, seconds)
    standard = float(submission.scenario.data["response_standard"]["seconds"])
    turns = [("customer", nudge, waited_since + timedelta(seconds=standard * (n + 1)), None) for n, nudge in enumerate(step.nudges)]
    turns.append(("agent", text, now, round(seconds, 1)))
    if step.customer:
        turns.append(("customer", step.customer, now, None))
    state = thread_state(submission, customer["id"])
    state.update({"mood": step.mood, "needs_met": step.needs_met, "turn": step.turn})
    if step.ending:
        state.update({"ending": step.ending, "text": step.ending_text})
    _set_state(submission, customer["id"], state)
    return turns


def leave_after(submission, customer: dict) -> float:
    standard = float(submission.scenario.data["response_standard"]["seconds"])
    return standard * (customer["model"]["patience"] + LEAVE_AFTER_EXTRA)


def walk_out(submission, customer: dict, waited_since: datetime) -> tuple[str, datetime] | None:
    """The customer waited past their patience: they leave (timed out). Their last words and when, or None."""
    sim = replayed(submission, customer)
    step = sim.give_up_waiting()
    state = thread_state(submission, customer["id"])
    state.update({"ending": "timed_out", "text": step.ending_text, "mood": sim.mood})
    _set_state(submission, customer["id"], state)
    at = waited_since + timedelta(seconds=leave_after(submission, customer))
    return (step.customer or pick(customer["model"]["endings"]["timed_out"]["customer"], submission.id, "walkout"), at)


@dataclass
class Pending:
    """What a customer left without a reply has said by a given time, not yet stored: the nudges due (one per
    standard passed, up to their patience) and, past ``leave_after``, their last words (the thread ends timed out)."""
    nudges: list[tuple[str, datetime]] = field(default_factory=list)
    walk_out: tuple[str, datetime] | None = None
    ending_text: str | None = None
    mood: int | None = None


def pending(submission, customer: dict, waited_since: datetime, now: datetime) -> Pending:
    """Read-only: the customer's messages due by ``now`` while waiting since ``waited_since`` — exactly the nudges
    ``respond`` stores on the agent's next reply in this thread and the walk-out ``advance`` stores past their
    patience (same phrasings, same times). Nothing is written: the practice page's poll (a GET) shows them."""
    standard = float(submission.scenario.data["response_standard"]["seconds"])
    waited = (now - waited_since).total_seconds()
    if not has_model(customer) or waited <= standard:
        return Pending()
    sim = replayed(submission, customer)
    if sim.ending:
        return Pending()
    key = (sim.seed, customer["id"], sim.turn + 1)  # the turn the agent's next reply (or the walk-out) will be
    phrasings = customer["model"]["reactions"]["espera"]["phrasings"]
    count = min(int(waited // standard), customer["model"]["patience"])
    out = Pending([(pick(phrasings, *key, "espera", n), waited_since + timedelta(seconds=standard * (n + 1))) for n in range(count)])
    if waited > leave_after(submission, customer):
        step = sim.give_up_waiting()  # the replayed customer only: in memory
        text = step.customer or pick(customer["model"]["endings"]["timed_out"]["customer"], submission.id, "walkout")
        out.walk_out = (text, waited_since + timedelta(seconds=leave_after(submission, customer)))
        out.ending_text, out.mood = step.ending_text, sim.mood
    return out


def close_open_threads(submission, now: datetime) -> None:
    """At hand-in: a thread the agent left with the customer still waiting ends as timed out."""
    for customer in submission.scenario.data["customers"]:
        if has_model(customer) and not thread_state(submission, customer["id"]).get("ending"):
            sim = replayed(submission, customer)
            step = sim.give_up_waiting()
            state = thread_state(submission, customer["id"])
            state.update({"ending": "timed_out", "text": step.ending_text, "mood": sim.mood, "closed_at_submit": True})
            _set_state(submission, customer["id"], state)


def email_ending(submission, customer: dict, text: str, seconds: float | None) -> None:
    """Email mode: the composed reply is the one reply; the customer's ending follows from it."""
    sim = Customer(submission.scenario.data, customer, submission.id)
    step = sim.react(text, seconds)
    _set_state(submission, customer["id"], {"ending": step.ending or "timed_out", "text": step.ending_text, "mood": step.mood,
                                             "needs_met": step.needs_met, "customer": step.customer})
