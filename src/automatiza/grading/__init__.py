"""Grading internals shared by `automatiza corrigir` (the pt-BR command lives in `automatiza.correcao`).

`sandbox` holds the security boundary: reading untrusted files (`sandbox.files`). The rest of the grader
still lives in `automatiza.correcao` (isolation in `isolamento`, the zygote in `zigoto`, the guard in
`guarda`).
"""
