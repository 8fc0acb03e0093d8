package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/query"
)

// exportBundle writes the events req selects, with their proofs against
// the latest signed head, as an evidence bundle at path.
func exportBundle(data, path string, req query.Request, stderr io.Writer) error {
	if err := requireDataDir(data); err != nil {
		return err
	}
	p, err := pseudonymFromEnv(data)
	if err != nil {
		return err
	}
	db, err := eventlog.Open(data, eventlog.Options{ReadOnly: true, Integrity: true, Pseudonymizer: p})
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := db.Integrity()
	if err != nil {
		return err
	}
	head, ok := l.LatestHead()
	if !ok {
		return errors.New("no tree head is signed yet (integrity head --sign, or a server's --integrity-interval)")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw, err := integrity.NewBundleWriter(f, l.PublicKey(), head, time.Now())
	if err != nil {
		return err
	}
	n := 0
	err = db.Export(context.Background(), req, func(h query.Hit) error {
		ep, err := db.ProveEvent(eventlog.IDOf(h.Seq), head.Size)
		if err != nil {
			return fmt.Errorf("event %s (signed heads cover %d leaves; sign a newer head): %w", eventlog.IDOf(h.Seq), head.Size, err)
		}
		n++
		return bw.Add(integrity.NewProofDoc(ep.ID, &ep.Event, ep.Proof, nil))
	})
	if err == nil {
		err = bw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d events proven against the head of size %d signed at %s\n", path, n, head.Size, head.Timestamp.Format(time.RFC3339))
	return nil
}

// remoteBundle writes the bundle a server answers for req
// (_export?bundle=true) at path, fsynced; a failure leaves no file.
func remoteBundle(c *client.Client, path string, req query.Request, stderr io.Writer) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = c.ExportBundle(context.Background(), req, f)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: the bundle %s answered (%d bytes); check it with verify-bundle --pubkey KEY\n", path, c.URL(), st.Size())
	return nil
}

// runVerifyBundle is `eventlog verify-bundle FILE.tar`: offline, with no
// server and no data directory.
func runVerifyBundle(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, _ := newFlags("verify-bundle", stderr)
	pubFile := fs.String("pubkey", "", "the public key (PEM) you trust, kept apart from the bundle; without it the bundle's own key is used, which proves only that the bundle is self-consistent")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("verify-bundle: want one FILE.tar: %w", errUsage)
	}
	var trusted ed25519.PublicKey
	if *pubFile != "" {
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			return fmt.Errorf("--pubkey: %w", err)
		}
		if trusted, err = integrity.ParsePublicKey(b); err != nil {
			return fmt.Errorf("--pubkey %s: %w", *pubFile, err)
		}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := integrity.VerifyBundle(f, trusted)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "problem:", p)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%d %w in %s", len(rep.Problems), errProblems, fs.Arg(0))
	}
	which := "the bundle's own key (pass --pubkey to check it against one you trust)"
	if trusted != nil {
		which = "the trusted key " + *pubFile
	}
	fmt.Fprintf(stdout, "%s: ok: %d events proven in the tree of size %d (root %x), head signed at %s by %s\n",
		fs.Arg(0), rep.Events, rep.Head.Size, rep.Head.Root[:8], rep.Head.Timestamp.Format(time.RFC3339), which)
	return nil
}
