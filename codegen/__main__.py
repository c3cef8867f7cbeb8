"""``python -m codegen``: the same program as the ``codegen`` command."""

import sys

from codegen.cli import main

sys.exit(main())
