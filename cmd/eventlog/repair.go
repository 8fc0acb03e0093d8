package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/eventlogdb/eventlog"
)

// runRepair salvages a damaged data directory and prints what was recovered
// and which sequence ranges were lost. It succeeds (exit 0) when everything
// readable was recovered, even if some ranges were lost.
func runRepair(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("repair", stderr)
	skipLive := fs.Bool("skip-live-check", false, "only salvage quarantined segments; do not verify every live segment")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := eventlog.RepairOptions{SkipLiveCheck: *skipLive}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	rep, err := eventlog.Repair(*data, opts)
	if rep != nil {
		printRepair(stdout, *data, rep)
	}
	return err
}

func printRepair(w io.Writer, dir string, rep *eventlog.RepairReport) {
	if rep.Clean() {
		fmt.Fprintf(w, "%s: nothing to repair\n", dir)
		return
	}
	printManifestRepair(w, rep.Manifest)
	if r := rep.WAL; r != nil {
		fmt.Fprintf(w, "wal: recovered %d events into %v\n", r.Recovered, r.Segments)
		for _, d := range r.Damage {
			what := "lost: nothing unsealed"
			switch {
			case d.Torn:
				what = "torn tail (an interrupted append, never acknowledged)"
			case d.Lost != nil:
				what = "lost: " + d.Lost.String()
			}
			fmt.Fprintf(w, "  %s offset %d (%d bytes, %s): %s\n", d.File, d.Offset, d.Bytes, d.Reason, what)
		}
	}
	for _, s := range rep.Segments {
		fmt.Fprintf(w, "segment %s: recovered %d events into %v\n", s.Name, s.Recovered, s.Segments)
		if s.Reason != "" {
			fmt.Fprintf(w, "  quarantined because: %s\n", s.Reason)
		}
		for _, c := range s.Corrected {
			fmt.Fprintf(w, "  corrected a flipped bit in %s\n", c)
		}
		for _, l := range s.Lost {
			fmt.Fprintf(w, "  lost: %s\n", l)
		}
	}
	if lost := rep.Lost(); len(lost) > 0 {
		fmt.Fprintf(w, "%d sequence range(s) could not be recovered (see above)\n", len(lost))
		if rep.TreeLost > 0 {
			fmt.Fprintf(w, "recorded %d positions of the Merkle tree as lost to this repair (verify --chain lists them; the next open records the fork as an event)\n", rep.TreeLost)
		}
	} else {
		fmt.Fprintln(w, "nothing was lost")
	}
}

func printManifestRepair(w io.Writer, m *eventlog.ManifestRepair) {
	if m == nil {
		return
	}
	fmt.Fprintf(w, "manifest: rebuilt (%s)\n", m.Reason)
	if m.Previous == "" {
		fmt.Fprintln(w, "  used MANIFEST.prev")
	} else {
		fmt.Fprintf(w, "  MANIFEST.prev unusable: %s\n", m.Previous)
	}
	fmt.Fprintf(w, "  lists %d segments; %d deletes by query pending\n", len(m.Segments), m.Tombstones)
	if len(m.Superseded) > 0 {
		fmt.Fprintf(w, "  superseded by newer segments, moved to superseded/: %v\n", m.Superseded)
	}
	if len(m.Quarantined) > 0 {
		fmt.Fprintf(w, "  damaged, salvaged below: %v\n", m.Quarantined)
	}
	if len(m.Missing) > 0 {
		fmt.Fprintf(w, "  listed in MANIFEST.prev but not on disk (replaced or dropped since, or lost): %v\n", m.Missing)
	}
	if m.Rescued > 0 {
		fmt.Fprintf(w, "  %d events only the WAL held were written as segments\n", m.Rescued)
	}
	if m.ReadOnly != "" {
		fmt.Fprintf(w, "  the store now opens READ-ONLY: %s\n", m.ReadOnly)
	}
}
