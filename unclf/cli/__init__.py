"""The ``unclf`` command: segment, train, predict, evaluate, cv, learning-curve, review.

Only argument handling, reading and writing live here; every decision is made by the library.
Exit status: 0 every document done; 1 some documents failed (the others are written), some
labelled documents were left out (``--skip-invalid``), or the reader of the output went away;
2 the command could not run; 130 interrupted (Ctrl-C). Expected failures print one line, never
a traceback (``--debug`` shows it).
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import suppress

from unclf.cli.common import EXIT_CANNOT_RUN, EXIT_OK, EXIT_SOME_FAILED, UsageError, one_line
from unclf.cli.options import build_parser

__all__ = ["UsageError", "build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Scoped, so that calling main() in-process leaves the caller's warning settings alone.
    with warnings.catch_warnings():
        if not args.debug:
            warnings.simplefilter("ignore", FutureWarning)
        warnings.showwarning = lambda message, *_, **__: print(
            f"unclf: warning: {message}", file=sys.stderr
        )
        try:
            code = args.run(args)
            # Labelled documents left out (--skip-invalid): done, but not every document.
            if code == EXIT_OK and getattr(args, "skipped_documents", 0):
                return EXIT_SOME_FAILED
            return code
        except UsageError as e:
            if args.debug:
                raise
            print(f"unclf: error: {e}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, and keep Python from
            # complaining again when it flushes stdout at exit.
            with suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_SOME_FAILED
        except OSError as e:  # e.g. the disk filled up while writing the output
            if args.debug:
                raise
            where = f"{e.filename}: " if e.filename else ""
            print(f"unclf: error: {where}{e.strerror or e}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        except Exception as e:  # a bug: still one line; --debug shows where
            if args.debug:
                raise
            print(
                f"unclf: error: internal error ({one_line(e)}); please report it, "
                "--debug shows the traceback",
                file=sys.stderr,
            )
            return EXIT_CANNOT_RUN
