package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog"
)

func runRegister(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("register", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return fmt.Errorf("expected PROVIDER ACTION...: %w", errUsage)
	}
	db, err := eventlog.Open(*data, eventlog.Options{})
	if err != nil {
		return err
	}
	err = db.RegisterProviderActions(fs.Arg(0), fs.Args()[1:]...)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registered %s: %v\n", fs.Arg(0), db.ProviderActions()[fs.Arg(0)])
	return nil
}

func runStats(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("stats", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openRead(*data)
	if err != nil {
		return err
	}
	defer db.Close()
	out := struct {
		Stats     eventlog.Stats      `json:"stats"`
		Providers map[string][]string `json:"providers"`
	}{db.Stats(), db.ProviderActions()}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
