"""Migration b7c1d0e2f301 recomputes the stored progress summaries of existing enrolments to the working-day rule."""
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from lms.core.db import make_engine
from lms.migrations import downgrade, upgrade
from lms.tracks.calendar import due_date

WEDNESDAY, MONDAY = date(2026, 1, 7), date(2026, 1, 5)
NOW = datetime(2026, 1, 9, 9, tzinfo=timezone.utc)


def test_existing_summaries_move_to_working_days(databases):
    url = databases.create("summary-migration", migrate=False)
    upgrade(url, "8a1e0b7c2d05")
    engine = make_engine(url)
    meta = sa.MetaData()
    users, tracks, enrollments, progress = (sa.Table(name, meta, autoload_with=engine)
                                            for name in ("users", "tracks", "enrollments", "enrollment_progress"))
    old = {1: (WEDNESDAY, [0, 2, 4, 8, 25], [4, 8, 25], 25), 2: (MONDAY, [0, 4, 11], [11], 11)}
    try:
        with engine.begin() as conn:
            conn.execute(tracks.insert(), [{"id": 1, "slug": "t", "title": "T", "description": "", "content_hash": "x", "is_archived": False}])
            for n, (start, due_days, pending, end) in old.items():
                conn.execute(users.insert(), [{"id": n, "email": f"a{n}@x.es", "name": "A", "role": "agent", "is_active_user": True,
                                               "session_version": 1, "created_at": NOW}])
                conn.execute(enrollments.insert(), [{"id": n, "user_id": n, "track_id": 1, "start_date": start, "created_at": NOW,
                                                     "updated_at": NOW}])
                conn.execute(progress.insert(), [{
                    "enrollment_id": n, "user_id": n, "track_id": 1, "start_date": start, "end_date": start + timedelta(days=end),
                    "steps_total": len(due_days), "steps_done": len(due_days) - len(pending), "modules_total": 1,
                    "modules_done_in_order": 0, "first_pending_due": start + timedelta(days=pending[0]), "pending_days": pending,
                    "due_days": due_days, "done_days": [], "quiz_grades": {}, "updated_at": NOW}])
        upgrade(url)
        with engine.connect() as conn:
            rows = {r.enrollment_id: r for r in conn.execute(sa.select(progress))}
        for n, (start, due_days, pending, end) in old.items():
            moved = [(due_date(start, d) - start).days for d in due_days]
            row = rows[n]
            assert row.due_days == moved and row.pending_days == [(due_date(start, d) - start).days for d in pending]
            assert row.first_pending_due == due_date(start, pending[0]) and row.end_date == due_date(start, end)
        # started on a Wednesday: day 4 (a Sunday) is now the Tuesday after; started on a Monday: nothing moved
        assert rows[1].due_days == [0, 2, 6, 8, 27] and rows[1].first_pending_due == date(2026, 1, 13)
        assert rows[2].due_days == [0, 4, 11]
        downgrade(url, "8a1e0b7c2d05")  # the schema goes back; the summaries stay (rebuild-summaries recomputes them)
    finally:
        engine.dispose()
