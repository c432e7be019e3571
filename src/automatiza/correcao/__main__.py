"""``python -m automatiza.correcao``: the cohort commands without the course checkout."""

import sys

from automatiza.correcao.cli import main

sys.exit(main())
