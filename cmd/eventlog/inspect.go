package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/segment"
)

func runInspect(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, _ := newFlags("inspect", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("want one or more SEGMENT_FILE: %w", errUsage)
	}
	for _, path := range fs.Args() {
		r, err := segment.Open(path, segment.OpenOptions{})
		if err != nil {
			return err
		}
		err = r.Describe(stdout)
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// errProblems reports that verify found problems (already printed).
var errProblems = errors.New("problems found")

func runVerify(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("verify", stderr)
	chain := fs.Bool("chain", false, "also recompute every event's leaf and check every signed head against the Merkle tree")
	headFile := fs.String("head", "", "a signed head (JSON, as integrity head prints it) kept elsewhere, to check the store against; implies --chain")
	pubFile := fs.String("pubkey", "", "the public key (PEM) to check heads with, kept elsewhere; default: the store's own")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireDataDir(*data); err != nil {
		return err
	}
	problems := eventlog.Verify(*data)
	for _, p := range problems {
		fmt.Fprintln(stdout, "problem:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d %w in %s", len(problems), errProblems, *data)
	}
	fmt.Fprintf(stdout, "%s: ok (manifest, segments and WAL checksums verified)\n", *data)
	if *chain || *headFile != "" {
		return verifyChain(*data, *headFile, *pubFile, stdout)
	}
	return nil
}
