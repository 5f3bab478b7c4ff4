"""``unclf review``: label, review and correct suggestions in the browser."""

from __future__ import annotations

import argparse

from unclf.cli.common import EXIT_OK, UsageError


def cmd_review(args: argparse.Namespace) -> int:
    from unclf.review.serve import ReviewSetupError, open_session, serve

    try:
        session = open_session(
            args.inputs, args.labels, args.label, args.model, args.model_out, args.order
        )
        serve(session, args.host, args.port)
    except ReviewSetupError as e:
        raise UsageError(str(e)) from None
    return EXIT_OK
