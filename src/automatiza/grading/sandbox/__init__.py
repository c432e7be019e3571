"""The grader's security boundary: everything that touches what a learner controls.

- `files`: files of a submission or of a kernel's folder, read without following links, without blocking,
  up to a bound;
- `isolation`: the isolation plan, the probe that refuses to grade where it does not hold, and the Linux
  namespaces, mounts and limits applied to each kernel (without a cgroup: the sampled memory total; without
  root: the disk quota mounted in the kernel's own user namespace);
- `cgroups`: memory and process totals per kernel where a cgroup can be made;
- `zygote`: the process that imports the kernel's Python once and forks an isolated kernel per notebook
  (also the course's kernels in `automatiza executar`, with isolation off);
- `protocol`: every message between the zygote and its client, typed once and validated on both sides;
- `provisioner`: a jupyter_client kernel provisioner whose kernels the zygote forks, and the kernel manager
  on it that the grader and `automatiza executar` both use;
- `guard`: inside the kernel, only a deterrent.
"""
