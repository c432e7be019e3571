"""Untrusted files: what a learner controls (the submission folder, the kernel's own folder) is never
followed, never blocks the grader and is never read unbounded.

Every case here fooled or hung the grader before `grading.sandbox.files`: a submitted notebook that is a
symbolic link to the course's source (graded as the learner's, full marks), an attachment that is a link to
gradebook.db (its bytes copied into the learner's autograded folder), a FIFO among the attachments, a kernel
that swaps its log for a FIFO or a link to /dev/zero before dying (the zygote hung on it, and with it the
cohort).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from correcao_apoio import TAREFA, isolation_missing, make_course, solved, submit

from automatiza.grading.sandbox import files

TESTS = Path(__file__).resolve().parent
SQLITE_HEADER = b"SQLite format 3"


# ---- the reader on its own ------------------------------------------------------------------------------


def _tree(folder: Path) -> files.Tree:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return files.read_tree(fd, [".ipynb_checkpoints"])
    finally:
        os.close(fd)


def test_regular_files_and_folders_are_read(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.csv").write_text("x;y\n")
    (tmp_path / "sub" / "b.txt").write_text("ok")
    (tmp_path / ".ipynb_checkpoints").symlink_to("/etc")  # ignored names are skipped unread
    tree = _tree(tmp_path)
    assert tree.files == {"a.csv": b"x;y\n", "sub/b.txt": b"ok"}
    assert tree.folders == ["sub"] and tree.ignored == [".ipynb_checkpoints"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.symlink_to("/etc/hostname"), "é um link simbólico"),
        (lambda p: p.symlink_to("/dev/zero"), "é um link simbólico"),
        (lambda p: os.mkfifo(p), "é um pipe nomeado (FIFO)"),
        (lambda p: os.link(p.parent.parent.parent / "fora.txt", p), "link físico"),
    ],
    ids=["link", "link-dev-zero", "fifo", "link-fisico"],
)
def test_anything_but_a_regular_file_is_refused_by_name(tmp_path, make, reason):
    (tmp_path / "fora.txt").write_text("segredo")
    folder = tmp_path / "entrega"
    (folder / "dados").mkdir(parents=True)
    make(folder / "dados" / "planilha.csv")
    with pytest.raises(files.UnsafeFile) as caught:
        _tree(folder)
    assert caught.value.name == "dados/planilha.csv"
    assert reason in str(caught.value)


def test_linked_folder_is_refused_not_followed(tmp_path):
    (tmp_path / "segredo").mkdir()
    (tmp_path / "segredo" / "gabarito.txt").write_text("42")
    folder = tmp_path / "entrega"
    folder.mkdir()
    (folder / "pasta").symlink_to(tmp_path / "segredo")
    with pytest.raises(files.UnsafeFile, match="pasta é um link simbólico"):
        _tree(folder)
    with pytest.raises(files.UnsafeFile, match="entrega/pasta é um link simbólico"):
        files.open_folder(tmp_path, "entrega/pasta")


def test_reads_are_bounded(tmp_path):
    (tmp_path / "grande.bin").write_bytes(b"x" * 5000)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(files.UnsafeFile, match="passa do limite"):
            files.read_tree(fd, [], files.Bounds(file_bytes=4096))
    finally:
        os.close(fd)
    with pytest.raises(files.UnsafeFile, match="passa do limite"):
        files.read_file(tmp_path / "grande.bin", 100)


def test_tail_never_blocks_nor_follows(tmp_path):
    log = tmp_path / "kernel.log"
    os.mkfifo(log)  # nobody writes: a plain open() would wait forever
    assert files.tail(log, 3000) == ""
    log.unlink()
    log.symlink_to("/dev/zero")  # a plain read() would never end
    assert files.tail(log, 3000) == ""
    log.unlink()
    log.write_text("a" * 5000 + "fim")
    assert files.tail(log, 10) == "aaaaaaafim"


# ---- the grader, end to end (in a subprocess: the old code hung for ever on some of these) -----------------

# without root the kernel's folder is its own tmpfs (its quota) and its log stays on the host, out of reach:
# there the swap only touches the kernel's own copy of the folder
LOG_SWAP = (
    "import contextlib, os\n"
    "with contextlib.suppress(FileNotFoundError):\n"
    "    os.remove('../kernel.log')\n"
    "{how}\n"
    "os._exit(3)"
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("curso"))
    source_nb = root / "source" / TAREFA / f"{TAREFA}.ipynb"
    submit(root, "vitima", solved(root))

    folder = submit(root, "link_fonte")
    (folder / f"{TAREFA}.ipynb").symlink_to(source_nb)

    folder = submit(root, "anexo_banco", solved(root))
    (folder / "minhas-notas.csv").symlink_to(root / "gradebook.db")

    folder = submit(root, "anexo_fonte", solved(root))
    (folder / "anotacoes").mkdir()
    (folder / "anotacoes" / "gabarito.ipynb").symlink_to(source_nb)

    folder = submit(root, "fifo", solved(root))
    os.mkfifo(folder / "entrada.csv")

    (root / "submitted" / "pasta_link").mkdir()
    (root / "submitted" / "pasta_link" / TAREFA).symlink_to(root / "submitted" / "vitima" / TAREFA)

    swaps = {"log_fifo": "os.mkfifo('../kernel.log')", "log_zero": "os.symlink('/dev/zero', '../kernel.log')"}
    for student, how in swaps.items():
        submit(root, student, solved(root, q2_resposta=LOG_SWAP.format(how=how)))

    script = (
        "import json, sys\n"
        "from correcao_apoio import grade\n"
        "from automatiza.grading.sandbox import isolation\n"
        "try:\n"
        f"    report = grade(__import__('pathlib').Path({str(root)!r}))\n"
        "except isolation.IsolationUnavailable as exc:\n"
        "    print('SEM-ISOLAMENTO', exc)\n"
        "    sys.exit(0)\n"
        "print(json.dumps({r.student: [r.score, r.status, r.notes] for r in report.results}))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a correção travou (mais de 300 s): um arquivo do aluno bloqueou o corretor")
    assert done.returncode == 0, done.stderr[-3000:]
    if "SEM-ISOLAMENTO" in done.stdout:
        isolation_missing(done.stdout)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return root, results


def _refused(results, student, text):
    score, status, notes = results[student]
    assert score == 0, (student, score, notes)
    assert status == "avisos", (student, status, notes)
    assert any("entrega recusada" in n and text in n for n in notes), notes


def test_notebook_linked_to_the_source_scores_zero(graded):
    _, results = graded
    _refused(results, "link_fonte", f"{TAREFA}.ipynb é um link simbólico")
    assert results["vitima"][0] == 7


def test_attachment_linked_to_the_gradebook_is_never_copied(graded):
    root, results = graded
    _refused(results, "anexo_banco", "minhas-notas.csv é um link simbólico")
    _refused(results, "anexo_fonte", "anotacoes/gabarito.ipynb é um link simbólico")
    for student in ("anexo_banco", "anexo_fonte"):
        for path in (root / "autograded" / student).rglob("*"):
            assert not path.is_symlink(), path
            if path.is_file():
                content = path.read_bytes()
                assert SQLITE_HEADER not in content, path
                assert b"BEGIN HIDDEN TESTS" not in content, path


def test_fifo_in_the_submission_is_refused(graded):
    _, results = graded
    _refused(results, "fifo", "entrada.csv é um pipe nomeado (FIFO)")


def test_submission_folder_linked_to_another_student(graded):
    _, results = graded
    _refused(results, "pasta_link", "é um link simbólico")


@pytest.mark.parametrize("student", ["log_fifo", "log_zero"])
def test_kernel_swapping_its_log_does_not_hang_the_cohort(graded, student):
    _, results = graded
    score, _, notes = results[student]
    assert score == 4, notes  # q1 before the crash, q3 on a new kernel; q2 died with the kernel
    assert any("o kernel parou na célula 'q2-resposta'" in n for n in notes), notes
