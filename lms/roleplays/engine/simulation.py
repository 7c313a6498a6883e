"""``roleplays simulate``: a scenario played from a list of agent replies, with the pre-check at the end."""
from __future__ import annotations

from lms.roleplays.engine.conversation import Customer


class SimulationError(ValueError):
    pass


def _replies(scenario: dict, raw: list) -> list[dict]:
    ids = [c["id"] for c in scenario["customers"]]
    out = []
    for n, item in enumerate(raw, start=1):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise SimulationError(f"reply {n}: a text, or {{text, seconds}}")
        seconds = item.get("seconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0):
            raise SimulationError(f"reply {n}: field 'seconds' must be a number >= 0")
        customer = item.get("customer")
        if len(ids) > 1 and customer is None:
            raise SimulationError(f"reply {n}: field 'customer': this scenario has several customers ({', '.join(ids)})")
        if customer is not None and customer not in ids:
            raise SimulationError(f"reply {n}: field 'customer': {customer!r} is not a customer of this scenario ({', '.join(ids)})")
        out.append({"text": item["text"], "seconds": None if seconds is None else float(seconds), "customer": customer or ids[0]})
    return out


def run(scenario_and_rubric: tuple[dict, dict | None], raw: list, *, seed="simulate") -> dict:
    from lms.roleplays import precheck

    scenario, rubric = scenario_and_rubric
    if not all("model" in c for c in scenario["customers"]):
        raise SimulationError("this scenario's customers have no model (needs, moves, endings) to simulate")
    replies = _replies(scenario, raw)
    customers = {c["id"]: Customer(scenario, c, seed) for c in scenario["customers"]}
    transcripts = {cid: [] for cid in customers}
    turns = []
    for n, item in enumerate(replies, start=1):
        customer = customers[item["customer"]]
        if customer.ending:
            raise SimulationError(f"reply {n}: the conversation with {item['customer']!r} has already ended ({customer.ending})")
        step = customer.react(item["text"], item["seconds"])
        log = transcripts[item["customer"]]
        log += [precheck.Turn("customer", nudge) for nudge in step.nudges]
        log.append(precheck.Turn("agent", item["text"], item["seconds"]))
        if step.customer:
            log.append(precheck.Turn("customer", step.customer))
        turns.append({"reply": n, **({"customer_id": item["customer"]} if len(customers) > 1 else {}), "nudges": step.nudges,
                      "customer": step.customer, "moves": [m["id"] for m in step.moves], "needs_met": step.needs_met,
                      "mood": step.mood, **({"ending": step.ending, "ending_text": step.ending_text} if step.ending else {})})
    endings = {cid: c.ending for cid, c, in customers.items()}
    checks = {}
    for cid, customer in customers.items():
        raw_customer = customer.customer
        transcript = precheck.Transcript(
            scenario["channel"], raw_customer["type"], raw_customer.get("opening") or raw_customer["messages"][0], transcripts[cid],
            customer_names=[raw_customer["name"]], standard_seconds=scenario["response_standard"]["seconds"],
            objectives=list(scenario.get("objectives") or []), expected_escalation=scenario.get("escalation"), scenario=scenario,
            customer_id=cid, record=raw_customer.get("record"))
        checks[cid] = precheck.check(transcript, rubric).as_json()
    if len(customers) == 1:
        only = next(iter(customers))
        return {"scenario": scenario.get("id"), "turns": turns, "ending": endings[only], "precheck": checks[only]}
    return {"scenario": scenario.get("id"), "turns": turns, "ending": endings, "precheck": checks}
