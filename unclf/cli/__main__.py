"""``python -m unclf.cli``: the ``unclf`` command."""

import sys

from unclf.cli import main

sys.exit(main())
