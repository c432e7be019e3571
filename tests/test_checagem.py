"""The learner-facing checks: what they accept and what their messages say."""

from __future__ import annotations

import numpy as np
import pytest

from automatiza.checagem import confira, confira_funcao, confira_que, pratique


def test_confira_explains_type_and_value():
    confira(3.0, 3.0, o_que="Total")
    with pytest.raises(
        AssertionError, match=r"esperava um número inteiro \(int\), como 2024, mas veio um texto"
    ):
        confira("2024", 2024, o_que="Ano", dica="use int()")
    with pytest.raises(AssertionError, match="esperava 9, mas veio 8. Dica: conte de novo"):
        confira(8, 9, o_que="Linhas", dica="conte de novo")
    with pytest.raises(AssertionError):
        confira(1, True, o_que="Lógico")  # 1 is not True for a yes/no answer


def test_numpy_numbers_count_as_numbers(capsys):
    confira(np.int64(5), 5, o_que="Soma")
    with pytest.raises(AssertionError, match="esperava 5, mas veio 4"):
        confira(np.int64(4), 5, o_que="Soma")


def test_confira_funcao_names_the_failing_input():
    confira_funcao(str.upper, [(("sei",), "SEI")], o_que="Maiúsculas")
    with pytest.raises(AssertionError, match="com a entrada 'abc', a função gerou o erro ValueError"):
        confira_funcao(int, [(("abc",), 0)], o_que="Conversão")
    with pytest.raises(AssertionError, match="esperava uma função"):
        confira_funcao(3, [], o_que="Função")


def test_confira_que_and_pratique(capsys):
    with pytest.raises(AssertionError, match="Faltou. Dica: veja"):
        confira_que(False, "Faltou.", dica="veja")
    assert pratique(None, 1, o_que="P1") is None
    pratique(2, 1, o_que="P2")
    pratique(1, 1, o_que="P3")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("✋ P1: ainda sem resposta")
    assert out[1] == "❌ P2: esperava 1, mas veio 2."
    assert out[2] == "✅ P3: correto!"


def test_an_object_equal_to_everything_does_not_pass():
    class Sempre:
        def __eq__(self, other):
            return True

    with pytest.raises(AssertionError):
        confira(Sempre(), 42, o_que="Resposta")
    with pytest.raises(AssertionError):
        confira(Sempre(), "1500.01.0023123/2024-08", o_que="Número")
