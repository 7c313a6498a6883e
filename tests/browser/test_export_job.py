"""A manager asks for an export too large to stream: the site offers to prepare it, the worker writes it, and the
manager downloads it from the export's page (English interface: the new strings are translated)."""
from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from lms.core import outbox
from lms.core.clock import now_utc
from lms.core.db import transaction
from lms.reporting import jobs
from tests.browser.conftest import SITE, screenshot
from tests.browser.test_three_roles import log_in, translator


def test_a_manager_prepares_a_large_export_and_downloads_it(browser, site_url):
    app, t = SITE["app"], translator("en")
    threshold = app.config.get("EXPORT_BACKGROUND_AGENTS")
    app.config["EXPORT_BACKGROUND_AGENTS"] = 1  # the demo's teams count as a large organisation here
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        log_in(page, site_url, "gerente@demo.lms", t)
        page.goto(f"{site_url}/manage/dashboard/")
        page.get_by_role("link", name=t("Exportar CSV estándar")).first.click()
        page.get_by_role("button", name=t("Preparar la exportación")).click()
        expect(page.get_by_text(t("En cola: empezará en unos segundos."))).to_be_visible()
        with app.app_context(), transaction() as worker:  # one pass of the worker
            assert outbox.deliver_due(worker, {jobs.KIND: jobs.sender_factory(app.config)}, now=now_utc()) == (1, 0)
        page.reload()
        expect(page.get_by_role("heading", name=t("La exportación está lista"))).to_be_visible()
        screenshot(page, "export-job-ready")
        with page.expect_download() as download:
            page.get_by_role("link", name=t("Descargar el archivo")).click()
        rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())))
        assert rows[0][:2] == ["agente", "email"] and len(rows) > 1
    finally:
        app.config["EXPORT_BACKGROUND_AGENTS"] = threshold
        context.close()
