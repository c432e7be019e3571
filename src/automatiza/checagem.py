"""Verificações com mensagens amigáveis, para lições e exercícios.

Nos exercícios (nbgrader), use `confira` e `confira_funcao`: quando a resposta não está certa, elas levantam
`AssertionError` com uma mensagem que diz o que era esperado, o que veio e uma dica.
Nas lições, use `pratique`: ela só escreve o resultado na tela e nunca interrompe o notebook.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

_TYPE_NAMES = {
    str: "um texto (str)",
    int: "um número inteiro (int)",
    float: "um número decimal (float)",
    bool: "um valor lógico (bool)",
    list: "uma lista (list)",
    tuple: "uma tupla (tuple)",
    dict: "um dicionário (dict)",
    set: "um conjunto (set)",
    type(None): "None (nenhum valor)",
}


def nome_do_tipo(valor: Any) -> str:
    """Nome do tipo de `valor` em português, por exemplo 'um texto (str)'."""
    kind = type(valor)
    return _TYPE_NAMES.get(kind, f"um objeto do tipo {kind.__name__}")


def _plain(value: Any) -> Any:
    """NumPy scalars (what pandas sums return) as the Python number they stand for."""
    return (
        value.item()
        if type(value).__module__ == "numpy" and hasattr(value, "item") and not hasattr(value, "__len__")
        else value
    )


def _same(got: Any, expected: Any) -> bool:
    got, expected = _plain(got), _plain(expected)
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, float) and isinstance(got, int | float):
        return math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9)
    if hasattr(expected, "equals") and callable(expected.equals):  # pandas objects
        return type(got) is type(expected) and bool(expected.equals(got))
    if isinstance(expected, list | tuple) and isinstance(got, list | tuple):
        return (
            type(got) is type(expected)
            and len(got) == len(expected)
            and all(_same(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(_same(got[k], expected[k]) for k in expected)
    if isinstance(expected, str | int | float) and not isinstance(got, str | int | float):
        return False  # also stops objects whose __eq__ always answers True
    if isinstance(expected, str | int | float) and isinstance(got, str) != isinstance(expected, str):
        return False
    try:
        return bool(got == expected)
    except (TypeError, ValueError):  # e.g. arrays whose truth value is ambiguous
        return False


def _show(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def diferenca(obtido: Any, esperado: Any, o_que: str, dica: str = "") -> str | None:
    """Mensagem explicando por que `obtido` não é `esperado`; None quando estão iguais."""
    if _same(obtido, esperado):
        return None
    obtido, esperado = _plain(obtido), _plain(esperado)
    if type(obtido) is not type(esperado) and not (
        isinstance(obtido, int | float) and isinstance(esperado, float) and not isinstance(obtido, bool)
    ):
        message = (
            f"{o_que}: esperava {nome_do_tipo(esperado)}, como {_show(esperado)}, "
            f"mas veio {nome_do_tipo(obtido)}: {_show(obtido)}."
        )
    else:
        message = f"{o_que}: esperava {_show(esperado)}, mas veio {_show(obtido)}."
    return f"{message} Dica: {dica}" if dica else message


def confira(obtido: Any, esperado: Any, *, o_que: str, dica: str = "") -> None:
    """Verificação de exercício: levanta AssertionError com uma mensagem amigável se a resposta não bate."""
    message = diferenca(obtido, esperado, o_que, dica)
    if message:
        raise AssertionError("❌ " + message)
    print(f"✅ {o_que}: correto.")


def confira_que(condicao: bool, mensagem: str, *, dica: str = "") -> None:
    """Verificação livre: levanta AssertionError com `mensagem` (e a dica) se a condição for falsa."""
    if not condicao:
        raise AssertionError("❌ " + (f"{mensagem} Dica: {dica}" if dica else mensagem))


def confira_funcao(
    funcao: Callable[..., Any],
    casos: Iterable[tuple[tuple, Any]],
    *,
    o_que: str,
    dica: str = "",
) -> None:
    """Chama `funcao(*argumentos)` para cada caso (argumentos, esperado) e explica o primeiro que falhar."""
    if not callable(funcao):
        raise AssertionError(f"❌ {o_que}: esperava uma função, mas veio {nome_do_tipo(funcao)}.")
    total = 0
    for argumentos, esperado in casos:
        total += 1
        entrada = ", ".join(_show(a) for a in argumentos)
        try:
            obtido = funcao(*argumentos)
        except Exception as exc:  # a função de quem aprende pode falhar de qualquer jeito
            raise AssertionError(
                f"❌ {o_que}: com a entrada {entrada}, a função gerou o erro "
                f"{type(exc).__name__}: {exc}." + (f" Dica: {dica}" if dica else "")
            ) from exc
        message = diferenca(obtido, esperado, f"{o_que} com a entrada {entrada}", dica)
        if message:
            raise AssertionError("❌ " + message)
    print(f"✅ {o_que}: {total} caso(s) corretos.")


def pratique(obtido: Any, esperado: Any, *, o_que: str, dica: str = "") -> None:
    """Retorno imediato para a prática de uma lição: escreve o resultado, nunca interrompe o notebook.

    Use `None` (ou `...`) como valor inicial da resposta: enquanto ela não for preenchida, a função só lembra
    de responder.
    """
    if obtido is None or obtido is Ellipsis:
        print(f"✋ {o_que}: ainda sem resposta. Escreva a sua na célula acima e execute as duas de novo.")
        return
    message = diferenca(obtido, esperado, o_que, dica)
    print("❌ " + message if message else f"✅ {o_que}: correto!")
