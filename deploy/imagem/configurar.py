"""Writes the Jupyter configurations of the image: learners (pt-BR, no instructor tools) and instructors.

The exchange is nbgrader's own, on the shared volume mounted at /srv/nbgrader/exchange in every pod; the
instructor's course folder is their home's `turma/`. Usage: python configurar.py /etc/automatiza
"""

import sys
from pathlib import Path

from automatiza import jupyterlab

EXCHANGE = Path("/srv/nbgrader/exchange")
COURSE_ID = "automatiza-mg"

target = Path(sys.argv[1])
jupyterlab.learner_config(target / "jupyter-aluno", EXCHANGE, COURSE_ID)
jupyterlab.instructor_config(target / "jupyter-instrutor", Path("/home/jovyan/turma"), EXCHANGE, COURSE_ID)

# Instructors grade into the program's PostgreSQL gradebook when the hub gives them its address.
with (target / "jupyter-instrutor" / "nbgrader_config.py").open("a", encoding="utf-8") as config:
    config.write(
        "\nimport os\n"
        "if os.environ.get('AUTOMATIZA_BANCO_NOTAS'):\n"
        "    c.CourseDirectory.db_url = os.environ['AUTOMATIZA_BANCO_NOTAS']\n"
    )
