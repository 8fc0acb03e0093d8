// Package cputime reads the CPU time the process has used. Benchmarks
// report it beside wall time, which a machine busy with other work
// stretches while CPU time per operation stays put.
package cputime
