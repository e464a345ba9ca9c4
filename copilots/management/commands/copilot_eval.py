"""`manage.py copilot_eval`: run the copilots' evaluation set and print the scorecard.

Offline always; with COPILOT_MODEL set, through that model too, with the same scorecard, so two
providers compare on the same cases. Nothing it creates is kept.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the copilots' evaluation set offline (and through COPILOT_MODEL if set)."

    def add_arguments(self, parser):
        parser.add_argument("--copilot", action="append", help="Only this copilot (repeatable).")
        parser.add_argument("-k", dest="keyword", help="Only cases whose name contains this.")
        parser.add_argument(
            "--offline-only", action="store_true", help="Skip the LLM pass even if configured."
        )

    def handle(self, *args, **options):
        from copilots.evals import CASES
        from copilots.evals.harness import run_cases, scorecard

        cases = [
            c
            for c in CASES
            if (not options["copilot"] or c.copilot in options["copilot"])
            and (not options["keyword"] or options["keyword"].lower() in c.name.lower())
        ]
        if not cases:
            raise CommandError("No case matches.")
        passes = [("Offline", False)]
        if settings.COPILOT_MODEL and not options["offline_only"]:
            passes.append((f"LLM {settings.COPILOT_MODEL}", True))
        failed = 0
        logging.disable(logging.WARNING)  # the cases' own chatter (ingests, 409s) is not news
        try:
            for title, llm in passes:
                results, seconds = run_cases(cases, llm=llm)
                self.stdout.write(scorecard(results, title=title, seconds=seconds))
                failed += sum(not r.passed for r in results)
        finally:
            logging.disable(logging.NOTSET)
        if failed:
            self.stdout.write(self.style.WARNING(f"{failed} case(s) missed."))
