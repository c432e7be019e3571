"""Correção da turma em cima do nbgrader: rápida (kernels pré-iniciados, em paralelo) e isolada.

Módulos:
- `curso`: lê uma pasta de curso do nbgrader (configuração, caminhos, banco de notas);
- `turma`: `automatiza turma criar`, uma turma nova fora do repositório;
- `isolamento`: o isolamento de cada kernel (namespaces, com ou sem root) e a sonda que recusa corrigir
  onde ele não funciona;
- `zigoto`: o processo que pré-carrega o Python do kernel e cria um kernel isolado por notebook;
- `guarda`: dentro do kernel, só um dissuasor (restaura o que os testes usam) e `avaliar`, que calcula os
  valores que o corretor confere fora do kernel (`automatiza.grading.checks`);
- `pool`: kernels pré-iniciados, prontos antes de serem necessários;
- `corretor`: `automatiza corrigir`, reusando os pré-processadores do nbgrader;
- `devolutiva` e `notas`: devolutivas em HTML e exportação das notas.

O que toca arquivos do aluno está em `automatiza.grading.sandbox.files` (sem seguir links, sem bloquear,
com limite).
"""
