package main

import (
	"fmt"
	"io"
	"os"
)

// runPseudonym is eventlog pseudonym reveal: it checks candidate values
// against a pseudonym with the key. HMAC cannot be inverted, so this is
// the only way back from a pseudonym to a person: confirming a guess.
func runPseudonym(args []string, _ io.Reader, stdout, _ io.Writer) error {
	fs, _ := newFlags("pseudonym", nil)
	keyFile := fs.String("key-file", os.Getenv(envPseudonymKeyFile), "file of the pseudonym key (env "+envPseudonymKeyFile+"; or the key itself in $"+envPseudonymKey+")")
	field := fs.String("field", "user.name", "the field the pseudonym was found in (IP fields compare addresses: ::1 is 0:0:0:0:0:0:0:1)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 3 || fs.Arg(0) != "reveal" {
		return fmt.Errorf("want: eventlog pseudonym reveal PSEUDONYM CANDIDATE...: %w", errUsage)
	}
	p, err := pseudonymConfig{keyFile: *keyFile, key: os.Getenv(envPseudonymKey)}.build("")
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("no key: --key-file FILE, $%s or $%s: %w", envPseudonymKeyFile, envPseudonymKey, errUsage)
	}
	pseudonym := fs.Arg(1)
	for _, candidate := range fs.Args()[2:] {
		ok, err := p.Reveal(*field, candidate, pseudonym)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(stdout, "%s %s is %s\n", *field, candidate, pseudonym)
			return nil
		}
	}
	fmt.Fprintf(stdout, "no candidate is %s in %s\n", pseudonym, *field)
	return errNoMatch
}

// errNoMatch ends eventlog pseudonym reveal with exit status 1 once it
// has said so.
var errNoMatch = fmt.Errorf("no match: %w", errReported)
