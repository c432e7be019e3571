"""`automatiza corrigir` and the cohort commands, on top of an nbgrader course folder (English internals).

Map, from the command to the security boundary:
- `cli`: `turma criar|conferir`, `corrigir`, `devolutiva`, `notas` (added to `automatiza`; typed errors from
  `automatiza.errors` decide the exit codes);
- `nbgrader_api`: the only module that imports nbgrader: version check, the course's delimiters, sanitize
  events from preprocessor subclasses, and the remaining patches of nbgrader internals (documented there);
- `coursedir`: reads an nbgrader course folder (configuration, paths, gradebook);
- `cohort`: creates a cohort outside the repository and checks its roster;
- `grader`: grades a cohort with nbgrader's own preprocessors, in parallel, one gradebook transaction per
  submission, a lock per cohort, a JSON report;
- `execution`: nbgrader's `Execute` run cell by cell on a sandboxed kernel (`kernels`);
- `judge`: the trusted judge: test cells run in the grader, the learner's objects stay in the kernel
  (`sandbox.remote` answers for them);
- `kernels`: the zygote's client and the pool of learners' kernels started ahead of need (jupyter_client
  kernel managers on `sandbox.provisioner`, the backend `automatiza executar` uses for lessons);
- `feedback`, `export`, `samples`: feedback pages, grade exports, synthetic cohorts for tests and benchmarks;
- `sandbox/`: the security boundary, reviewable on its own: `files` (reading untrusted files), `isolation`
  (policy, probe and Linux namespaces), `cgroups` (totals), `zygote` (the process that forks kernels),
  `remote` (the kernel side of the judge) and `guard` (the in-kernel deterrent).
"""
