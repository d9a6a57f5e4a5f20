"""`python -m lambdakit bench` (`nox -s bench`): the kit's function beside the usual torch approach.

Both images run the same pipeline under the same Lambda-faithful limits (MemorySize from template.yaml unless
--memory; CPU = MemorySize/1769), measured in one run and alternating. The kit runs on the project's base
(Python 3.13); the baseline on the Python 3.11 one of the same kind, since the only CPU build of torch here
is for CPython 3.11 (PyPI's Linux torch is the CUDA build):

* cold start: fresh container start → first response, and the emulator's INIT REPORT; median of N each;
* warm duration: p50/p95/p99 over N invokes of one short text and of a batch of 8 (the emulator's REPORT
  `Duration`, what Lambda bills; the client's round trip beside it);
* peak memory of the container's cgroup; image size, total and above the base, per layer;
* push cost to a local registry after a code-only and a dependency-only change, and whether the weights'
  layer went up again.

`--quantize` adds a third column, the kit with its int8 export (INFERENCE_PRECISION=int8), measured the same
way (but not pushed), with its accuracy against fp32 beside the speed.

With a function other than the demo (src/inference without the demo's files), the baseline column is left
out and the events are the project's own: events/single.json (else the first sample event) as the single
event, events/batch.json (else the single one again) as the batch.

Writes build/bench/results.json (every figure, the ratios kit/baseline, the machine) and results.md, and
prints the table. Targets are reported as met or not; nothing here fails because of a number.

The rooms: `run` (the run's order; its command is `lambdakit.commands.bench`), `sides` (the images and
their sizes), `cold` (cold starts, their breakdown, the floor), `warm` (warm invokes), `pushes` (push cost),
`compare` (ratios, targets, parity), `results` (the typed results and the one conversion to results.json),
`report` (the table and the files).
"""
