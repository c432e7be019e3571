"""``python -m automatiza.grading``: the same `automatiza` command line (corrigir, devolutiva and notas need
only the cohort folder, not the course checkout)."""

import sys

from automatiza.cli import main

sys.exit(main())
