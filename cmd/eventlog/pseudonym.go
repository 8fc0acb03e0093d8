package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

// routeReveal is the server's re-identification route.
const routeReveal = "api/_privacy/_reveal"

// runPseudonym is eventlog pseudonym reveal: it checks candidate values
// against a pseudonym with the key. HMAC cannot be inverted, so this is
// the only way back from a pseudonym to a person: confirming a guess.
// Every reveal is audited: through a server (--url, an admin key; the
// server holds the pseudonym key and records the event) or on a stopped
// store (--data, with the key), which records it there.
func runPseudonym(args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs, data := newFlags("pseudonym", nil)
	rawURL := addURLFlag(fs)
	keyFile := fs.String("key-file", os.Getenv(envPseudonymKeyFile), "on a stopped store (--data): file of the pseudonym key (env "+envPseudonymKeyFile+"; or the key itself in $"+envPseudonymKey+")")
	field := fs.String("field", "user.name", "the field the pseudonym was found in (IP fields compare addresses: ::1 is 0:0:0:0:0:0:0:1)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 3 || fs.Arg(0) != "reveal" {
		return fmt.Errorf("want: eventlog pseudonym reveal PSEUDONYM CANDIDATE...: %w", errUsage)
	}
	req := server.RevealRequest{Field: *field, Pseudonym: fs.Arg(1), Candidates: fs.Args()[2:]}
	c, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	var ans server.RevealAnswer
	if c != nil {
		if isSet(fs, "key-file") {
			return fmt.Errorf("--key-file is for a stopped store: through --url the server uses its own key: %w", errUsage)
		}
		err = c.Do(context.Background(), http.MethodPost, routeReveal, nil, req, &ans)
	} else {
		ans, err = revealOnStore(*data, pseudonymConfig{keyFile: *keyFile, key: os.Getenv(envPseudonymKey)}, req)
	}
	if err != nil {
		return err
	}
	if ans.Matched {
		fmt.Fprintf(stdout, "%s %s is %s\n", ans.Field, ans.Match, ans.Pseudonym)
		return nil
	}
	fmt.Fprintf(stdout, "no candidate is %s in %s\n", ans.Pseudonym, ans.Field)
	return errNoMatch
}

// revealOnStore checks req with the key of cfg and records the audit
// event in the stopped store at dir, which must exist: a reveal that
// cannot be recorded is not made.
func revealOnStore(dir string, cfg pseudonymConfig, req server.RevealRequest) (server.RevealAnswer, error) {
	p, err := cfg.build(dir)
	if err != nil {
		return server.RevealAnswer{}, err
	}
	if p == nil {
		return server.RevealAnswer{}, fmt.Errorf("no key: --key-file FILE, $%s or $%s: %w", envPseudonymKeyFile, envPseudonymKey, errUsage)
	}
	db, err := openForMaintenance(dir, eventlog.Options{MaintenanceInterval: -1, Pseudonymizer: p}, "/"+routeReveal)
	if err != nil {
		return server.RevealAnswer{}, fmt.Errorf("a reveal is recorded in the store it concerns: --data names a stopped store (or --url its server): %w", err)
	}
	ans, revealErr := server.Reveal(p, req)
	_, recErr := db.AppendInternal(context.Background(), server.RevealEvent(time.Now(), nil, "", req, ans.Matched, revealErr))
	if recErr != nil {
		recErr = fmt.Errorf("the reveal's audit event was not stored, so its answer is withheld: %w", recErr)
		ans = server.RevealAnswer{}
	}
	return ans, errors.Join(revealErr, recErr, db.Close())
}

// errNoMatch ends eventlog pseudonym reveal with exit status 1 once it
// has said so.
var errNoMatch = fmt.Errorf("no match: %w", errReported)
