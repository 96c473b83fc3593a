"""axe-core (installed from npm, see package.json) run in Chromium over the app's pages.

``Audit`` drives one browser context per role: it logs the role in once, visits each page,
runs axe at 1280 and at 375 pixels wide, and keeps every result for the test's report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse

from backend.settings import PROJECT_ROOT
from tests.factories import PASSWORD

AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = PROJECT_ROOT / "test-artifacts" / "axe"
WIDTHS = (1280, 375)
# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
TAGS = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22a",
    "wcag22aa",
    "best-practice",
]
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations'],
  });
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
  }));
}"""
# Two animation frames: whatever a resize scheduled for the next frame has run.
SETTLED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
ERROR_SUMMARY = ".nhsuk-error-summary"
EMPTY_AND_SUBMIT = """(form) => {
  for (const field of form.elements) {
    if (field.type === 'hidden' || field.type === 'submit' || field.type === 'button') continue;
    if (field.type === 'checkbox' || field.type === 'radio') field.checked = false;
    else if (field.tagName === 'SELECT') field.selectedIndex = -1;
    else if (field.type !== 'file') field.value = '';
  }
  form.requestSubmit();
}"""


def html_get_routes(app: Any) -> Iterator[str]:
    """The path of every GET route of ``app`` that answers with an HTML page."""

    def walk(routes: Iterable[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):  # an included router
                yield from walk(route.original_router.routes)

    for route in walk(app.routes):
        response_class = getattr(route.response_class, "value", route.response_class)
        if "GET" in route.methods and issubclass(response_class, HTMLResponse):
            yield route.path


@dataclass
class Audit:
    """axe-core results for one role's browser context (log in once, reuse the session)."""

    browser: Any
    base_url: str
    role: str
    email: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    context: Any = None
    page: Any = None

    def __enter__(self) -> Audit:
        # axe is injected as an inline script, which the app's CSP (rightly) refuses; the
        # keyboard journeys and other browser tests keep the CSP on.
        self.context = self.browser.new_context(
            base_url=self.base_url, viewport={"width": WIDTHS[0], "height": 900}, bypass_csp=True
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        if self.email:
            self.page.goto("/login")
            self.page.locator("#email").fill(self.email)
            self.page.locator("#password").fill(PASSWORD)
            with self.page.expect_navigation():
                self.page.get_by_role("button", name="Log in", exact=True).click()
            assert "/login" not in self.page.url, f"{self.role} could not log in"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.context.close()

    def visit(self, path: str, *, status: int = 200) -> None:
        """Open ``path`` and check it at each width."""
        response = self.page.goto(path)
        answered = response.status if response is not None else None
        if answered != status:  # reported with the violations, so one run shows every problem
            problem = {"id": "http-status", "impact": "critical", "nodes": []}
            problem["help"] = f"answered {answered}, not {status}"
            self.rows.append({"page": path, "role": self.role, "width": 0, "violations": [problem]})
            return
        self.check(path)

    def error_state(self, path: str, *, form: str = "main form[method=post]") -> None:
        """Post the form at ``path`` with every field empty, and check the error page."""
        self.page.goto(path)
        assert self.page.locator(ERROR_SUMMARY).count() == 0, (self.role, path)
        self.page.locator(form).first.evaluate(EMPTY_AND_SUBMIT)
        self.page.locator(ERROR_SUMMARY).wait_for(timeout=5_000)  # on the page that answers
        self.page.wait_for_load_state("load")
        self.check(f"{path} (posted empty)")

    def check(self, label: str) -> None:
        """Run axe on the page as it is, at each width, and record what it found."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.add_script_tag(path=str(AXE_SCRIPT))
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            # The NHS.UK header refolds its menu on the next animation frame after a resize:
            # check the page the user sees, not the frame in between.
            self.page.evaluate(SETTLED)
            started = time.monotonic()
            violations = self.page.evaluate(RUN_AXE, TAGS)
            self.rows.append(
                {
                    "page": label,
                    "role": self.role,
                    "width": width,
                    "violations": violations,
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def report(name: str, audits: Iterable[Audit], tmp_path: Path, record_property: Any) -> str:
    """Write every checked page with its violations; the text of any violations (or "")."""
    rows = [row for audit in audits for row in audit.rows]
    lines = [
        f"{row['page']}\t{row['role']}\t{row['width']}px\t{row.get('seconds', 0)}s\t"
        + (
            "; ".join(
                f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}"
                for v in row["violations"]
            )
            or "0 violations"
        )
        for row in rows
    ]
    text = "page\trole\twidth\taxe time\tviolations\n" + "\n".join(lines) + "\n"
    REPORTS.mkdir(parents=True, exist_ok=True)
    for path in (tmp_path / f"{name}.tsv", REPORTS / f"{name}.tsv"):
        path.write_text(text)
    (REPORTS / f"{name}.json").write_text(json.dumps(rows, indent=1))
    record_property("axe_report", str(REPORTS / f"{name}.tsv"))
    record_property("axe_checks", len(rows))
    failing = [line for line, row in zip(lines, rows, strict=True) if row["violations"]]
    record_property("axe_violations", len(failing))
    return "\n".join(failing)
