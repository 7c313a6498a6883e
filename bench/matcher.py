"""How long the role-play matcher takes to understand a reply (the issue's goal: well under 50 ms).

    .venv/bin/python bench/matcher.py

Prints the median and the slowest time to read one agent reply against every move of a scenario customer and its
needs (the work the engine does per reply), over the replies of the scenarios' model answers.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from lms import create_app

    app = create_app()
    with app.app_context():
        from lms.content.registry import _collect
        from lms.roleplays.engine.conversation import Customer

        collected, _problems = _collect(ROOT)
        scenarios = collected["roleplays"].scenarios
        from lms.roleplays import precheck
        from lms.roleplays.services import exemplar_turns

        replies, transcripts = [], []
        for scenario in scenarios.values():
            turns = [(speaker, text) for _thread, speaker, text in exemplar_turns(scenario.exemplar)]
            agent = [text for speaker, text in turns if speaker.lower().startswith("agente")]
            replies += [(scenario, text) for text in agent]
            data = scenario.data | {"mode": scenario.mode, "channel": scenario.channel}
            customer = data["customers"][0]
            transcripts.append(precheck.Transcript(
                scenario.channel, customer["type"], customer["messages"][0],
                [precheck.Turn("agent" if s.lower().startswith("agente") else "customer", t, 20) for s, t in turns[1:]],
                customer_names=[customer["name"]], standard_seconds=data["response_standard"]["seconds"],
                expected_escalation=data.get("escalation"), scenario=data, customer_id=customer["id"], record=customer.get("record")))
        times = []
        for n, (scenario, text) in enumerate(replies * 3):
            customer = Customer(scenario.data, scenario.data["customers"][0], n)
            start = time.perf_counter()
            customer.analyse(text + f" {n}")  # a different text each time: no cache helps
            times.append((time.perf_counter() - start) * 1000)
        print(f"replies read: {len(times)}")
        print(f"median: {statistics.median(times):.1f} ms   p95: {sorted(times)[int(len(times) * 0.95)]:.1f} ms   max: {max(times):.1f} ms")
        start = time.perf_counter()
        for n in range(1000):
            transcript = transcripts[n % len(transcripts)]
            if transcript.turns:
                transcript.turns[0].text += " "  # not the same text twice
            precheck.check(transcript)
        print(f"pre-check of 1,000 transcripts (the model answers, {len(transcripts)} scenarios): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
